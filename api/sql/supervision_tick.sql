-- One round of 统一督办 at :now: flag cases near their deadline (催办, the last quarter of
-- the time allowed) and past it (督办), and district departments that did not answer a call
-- in time; write each flag to the case file and tell the owning desk. Each flag is raised
-- once (the UPDATEs only touch rows whose flag changes), so a second run finds nothing.
-- :states / :call_states are the source states of the SYSTEM rules of the transition table.
WITH flagged AS (
    UPDATE incident i
    SET deadline_flag = CASE WHEN CAST(:now AS timestamptz) >= i.due_at THEN 'overdue' ELSE 'near' END,
        updated_at = CAST(:now AS timestamptz)
    WHERE i.status = ANY(CAST(:states AS text[])) AND i.due_at IS NOT NULL
      AND ((CAST(:now AS timestamptz) >= i.due_at AND i.deadline_flag IS DISTINCT FROM 'overdue')
           OR (CAST(:now AS timestamptz) < i.due_at AND i.deadline_flag IS NULL
               AND CAST(:now AS timestamptz) >= i.due_at - (i.due_at - coalesce(i.due_from, i.reported_at)) / 4))
    RETURNING i.id, i.status, i.deadline_flag, i.due_at,
              case_owners(i.tier, i.grid_code, i.community_code, i.zone_code, i.street_code, i.district_code) AS owners
), calls AS (
    UPDATE department_call d SET overdue_flagged_at = CAST(:now AS timestamptz)
    FROM incident i
    WHERE d.incident_id = i.id AND d.answered_at IS NULL AND d.overdue_flagged_at IS NULL
      AND d.answer_due_at <= CAST(:now AS timestamptz) AND i.status = ANY(CAST(:call_states AS text[]))
    RETURNING d.incident_id AS id, i.status, d.department_code, d.answer_due_at,
              case_owners(i.tier, i.grid_code, i.community_code, i.zone_code, i.street_code, i.district_code) AS owners
), steps AS (
    SELECT id, status, owners, CASE deadline_flag WHEN 'near' THEN 'flag_near_due' ELSE 'flag_overdue' END AS kind,
           jsonb_build_object('due_at', due_at) AS data
    FROM flagged
    UNION ALL
    SELECT id, status, owners, 'flag_answer_overdue',
           jsonb_build_object('department', department_code, 'answer_due_at', answer_due_at)
    FROM calls
), events AS (
    INSERT INTO incident_event (incident_id, at, actor, kind, from_status, to_status, data)
    SELECT id, CAST(:now AS timestamptz), 'system', kind, status, status, data FROM steps
), notes AS (
    INSERT INTO desk_notification (at, incident_id, area_code, areas, kind, data)
    SELECT CAST(:now AS timestamptz), id, owners[1], owners, kind, data FROM steps
    WHERE cardinality(owners) > 0
)
SELECT kind, count(*) AS n FROM steps GROUP BY kind
