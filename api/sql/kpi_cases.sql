-- The cases a KPI request counts, one row each, with the facts every KPI is defined on
-- (api.kpi.definitions turns the facts into one boolean or duration column per KPI part: the
-- figures are aggregates of those columns and the drill-down lists filter on them, so a
-- figure and its list come from the same predicate and cannot disagree).
--
-- Scope: the caller's reach over areas (``incident_in_reach`` with the KPI reach, no own-unit
-- reach), intersected with the optional filters (NULL = none): an area code of any level (the
-- case's grid, community, street, district or zone), a category, a department (called to the
-- case, or owning a unit sent to it) and a unit (sent to it).
-- Window: reported in [:start, :stop) (whole hours: the same set whether the caller sees
-- exact times or times to the hour).
-- Working time (handling in working hours): the official calendar from :cal_first on, one entry
-- a local day in the zone :tz: :cal_work (a working day?) and :cal_cum (the working seconds
-- before that day); office hours start at :day_start and last :office_s seconds.
WITH scoped AS (
    SELECT i.id, i.reported_at, i.status, i.tier, i.due_at, i.closed_at, i.rating, i.category_code,
           i.location, i.duplicate_of, i.grid_code, i.community_code, i.street_code, i.zone_code, i.district_code
    FROM incident i
    WHERE i.reported_at >= CAST(:start AS timestamptz) AND i.reported_at < CAST(:stop AS timestamptz)
      AND incident_in_reach(i.id, i.areas, CAST(:everywhere AS boolean), CAST(:scope AS text[]), CAST(NULL AS text))
      AND (CAST(:area AS text) IS NULL OR i.areas @> ARRAY[CAST(:area AS text)])
      AND (CAST(:category AS text) IS NULL OR i.category_code = CAST(:category AS text))
      AND (CAST(:department AS text) IS NULL
           OR EXISTS (SELECT FROM department_call c
                      WHERE c.incident_id = i.id AND c.department_code = CAST(:department AS text))
           OR EXISTS (SELECT FROM assignment a JOIN unit u ON u.code = a.unit_code
                      WHERE a.incident_id = i.id AND u.department_code = CAST(:department AS text)))
      AND (CAST(:unit AS text) IS NULL
           OR EXISTS (SELECT FROM assignment a WHERE a.incident_id = i.id AND a.unit_code = CAST(:unit AS text)))
), base AS (
    SELECT s.*, ev.*, asg.*, calls.*,
           -- a photo linked to a unit's handling report (回单)
           EXISTS (SELECT FROM incident_attachment p JOIN incident_event pe ON pe.id = p.event_id
                   WHERE p.incident_id = s.id AND pe.kind IN ('handle', 'resolve')) AS has_handling_photo,
           -- a later report of the same category within 100 m, within 30 days after this closed case
           EXISTS (SELECT FROM incident e
                   WHERE e.location && ST_Expand(s.location, 100 / 90000.0)  -- the index (degrees, generous)
                     -- not an index condition: ANDed with the category index, the probe costs 5 times more
                     AND (e.category_code = s.category_code) IS TRUE
                     AND e.id <> s.id AND e.status = 'closed'
                     AND e.closed_at < s.reported_at AND e.closed_at >= s.reported_at - interval '30 days'
                     AND ST_DWithin(e.location::geography, s.location::geography, 100)) AS repeats_closed_case
    FROM scoped s
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
               -- every call answered, or its answer deadline passed (decided either way)
               coalesce(bool_and(c.answered_at IS NOT NULL OR c.answer_due_at < CAST(:now AS timestamptz)), false)
                   AS calls_decided,
               coalesce(bool_and(c.answered_at IS NOT NULL
                                 AND (c.answer_due_at IS NULL OR c.answered_at <= c.answer_due_at)), false)
                   AS calls_on_time
        FROM department_call c WHERE c.incident_id = s.id
    ) calls ON true
), facts AS (
    SELECT b.*,
           -- the working seconds from the report to the first handling report: the working time
           -- elapsed by each moment (before its local day, plus the office time of that day so far),
           -- looked up in the calendar's per-day arrays (an expression, not a join: joined, the
           -- planner probed the calendar once per case)
           ((CAST(:cal_cum AS float8[]))[(b.handled_at AT TIME ZONE CAST(:tz AS text))::date
                                        - CAST(:cal_first AS date) + 1]
            + CASE WHEN (CAST(:cal_work AS boolean[]))[(b.handled_at AT TIME ZONE CAST(:tz AS text))::date
                                                       - CAST(:cal_first AS date) + 1]
                   THEN least(greatest(extract(epoch FROM (b.handled_at AT TIME ZONE CAST(:tz AS text))::time
                                                          - CAST(:day_start AS time)), 0), CAST(:office_s AS float8))
                   ELSE 0 END)
           - ((CAST(:cal_cum AS float8[]))[(b.reported_at AT TIME ZONE CAST(:tz AS text))::date
                                        - CAST(:cal_first AS date) + 1]
            + CASE WHEN (CAST(:cal_work AS boolean[]))[(b.reported_at AT TIME ZONE CAST(:tz AS text))::date
                                                       - CAST(:cal_first AS date) + 1]
                   THEN least(greatest(extract(epoch FROM (b.reported_at AT TIME ZONE CAST(:tz AS text))::time
                                                          - CAST(:day_start AS time)), 0), CAST(:office_s AS float8))
                   ELSE 0 END) AS handling_work_s
    FROM base b
)
