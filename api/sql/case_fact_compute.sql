-- The KPI facts of the cases :ids (a bigint[]), one row each, as case_fact holds them (migration
-- 0027 creates the function case_fact_compute(ids) from a copy of this text; triggers on incident,
-- incident_event, assignment, department_call and incident_attachment keep case_fact equal to it,
-- and tests/test_case_facts.py checks the database's function is this text). Shown in docs/kpis.md.
SELECT s.id, coalesce(ev.triaged_ever, false), ev.closed_ever, ev.handled_ever, ev.handled_at, ev.first_closed_at,
       ev.escalations, ev.extensions, ev.verification_failures, ev.reopenings, ev.rating_reopenings,
       asg.dispatched_at, asg.on_scene_at,
       calls.calls, calls.calls_answered, calls.pending_due_min, calls.pending_due_max, calls.calls_on_time,
       -- a photo linked to a unit's handling report (回单)
       EXISTS (SELECT FROM incident_attachment p JOIN incident_event pe ON pe.id = p.event_id
               WHERE p.incident_id = s.id AND pe.kind IN ('handle', 'resolve')),
       -- a later report of the same category within 100 m, within 30 days after this closed case
       EXISTS (SELECT FROM incident e
               WHERE e.location && ST_Expand(s.location, 100 / 90000.0)  -- the index (degrees, generous)
                 AND (e.category_code = s.category_code) IS TRUE
                 AND e.id <> s.id AND e.status = 'closed'
                 AND e.closed_at < s.reported_at AND e.closed_at >= s.reported_at - interval '30 days'
                 AND ST_DWithin(e.location::geography, s.location::geography, 100))
FROM incident s
LEFT JOIN LATERAL (
    SELECT bool_or(e.kind = 'triage') AS triaged_ever,
           coalesce(bool_or(e.to_status = 'closed'), false) AS closed_ever,
           coalesce(bool_or(e.to_status IN ('handled', 'closed')), false) AS handled_ever,
           -- an imported case's one event carries its final state at the time of the report: no handling time
           min(e.at) FILTER (WHERE e.to_status IN ('handled', 'closed') AND e.kind <> 'imported') AS handled_at,
           min(e.at) FILTER (WHERE e.to_status = 'closed') AS first_closed_at,
           count(*) FILTER (WHERE e.kind = 'escalate') AS escalations,
           count(*) FILTER (WHERE e.kind = 'extend') AS extensions,
           count(*) FILTER (WHERE e.kind = 'reject') AS verification_failures,
           count(*) FILTER (WHERE e.kind IN ('reopen', 'reopen_on_rating')) AS reopenings,
           count(*) FILTER (WHERE e.kind = 'reopen_on_rating') AS rating_reopenings
    FROM incident_event e WHERE e.incident_id = s.id
) ev ON true
LEFT JOIN LATERAL (
    SELECT min(a.dispatched_at) AS dispatched_at, min(a.on_scene_at) AS on_scene_at
    FROM assignment a WHERE a.incident_id = s.id
) asg ON true
LEFT JOIN LATERAL (
    SELECT count(*) AS calls,
           count(*) FILTER (WHERE c.answered_at IS NOT NULL) AS calls_answered,
           min(c.answer_due_at) FILTER (WHERE c.answered_at IS NULL) AS pending_due_min,
           max(c.answer_due_at) FILTER (WHERE c.answered_at IS NULL) AS pending_due_max,
           coalesce(bool_and(c.answered_at IS NOT NULL
                             AND (c.answer_due_at IS NULL OR c.answered_at <= c.answer_due_at)), false)
               AS calls_on_time
    FROM department_call c WHERE c.incident_id = s.id
) calls ON true
WHERE s.id = ANY (CAST(:ids AS bigint[]))
