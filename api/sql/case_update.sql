-- The state a transition leaves a case in (the event is written beside it), and the case as
-- written: the same columns as case_select.sql, so the answer needs no second read.
WITH i AS (
    UPDATE incident SET
        status = :status, tier = :tier, priority = :priority, suspended_from = :suspended_from,
        due_at = :due_at, due_from = :due_from, deadline_spec = :deadline_spec,
        deadline_flag = :deadline_flag, due_provisional = :due_provisional, due_paused = :due_paused,
        duplicate_of = :duplicate_of,
        closed_at = CASE WHEN :status = 'closed' THEN COALESCE(closed_at, CAST(:at AS timestamptz)) END,
        updated_at = :at
    WHERE id = :id
    RETURNING *
)
SELECT i.id, i.tracking_code, i.status, i.tier, i.priority, i.suspended_from, i.reported_at,
       i.due_at, i.due_from, i.deadline_spec, i.deadline_flag, i.due_provisional, i.due_paused, i.duplicate_of, i.category_code, i.supporters,
       c.deadlines, c.departments, i.grid_code, i.community_code, i.zone_code, i.street_code,
       i.district_code, ST_X(i.location) AS lon, ST_Y(i.location) AS lat,
       case_owners(i.tier, i.grid_code, i.community_code, i.zone_code, i.street_code, i.district_code) AS owners
FROM i JOIN category c ON c.code = i.category_code
