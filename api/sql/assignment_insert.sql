-- Send a unit. The partial unique indexes refuse a unit already on an active exclusive
-- assignment, and the same unit twice on one case: the race between desks ends here. A refused
-- unit is no row (ON CONFLICT DO NOTHING: no savepoint needed around the insert).
INSERT INTO assignment (incident_id, unit_code, dispatched_at, dispatched_by, exclusive)
VALUES (:incident_id, :unit_code, :at, :actor, :exclusive)
ON CONFLICT DO NOTHING
RETURNING id
