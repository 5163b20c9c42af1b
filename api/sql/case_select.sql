-- One case with what the transition table and the owner check need. The case service
-- appends FOR UPDATE OF i for a transition (concurrent actions on a case queue behind it).
SELECT i.id, i.tracking_code, i.status, i.tier, i.priority, i.suspended_from, i.reported_at,
       i.due_at, i.due_from, i.deadline_spec, i.deadline_flag, i.due_provisional, i.due_paused, i.duplicate_of, i.category_code, i.supporters,
       c.deadlines, c.departments, i.grid_code, i.community_code, i.zone_code, i.street_code,
       i.district_code, ST_X(i.location) AS lon, ST_Y(i.location) AS lat,
       case_owners(i.tier, i.grid_code, i.community_code, i.zone_code, i.street_code, i.district_code) AS owners
FROM incident i JOIN category c ON c.code = i.category_code
WHERE i.id = :id
