-- Link a report filed on patrol to its patrol and nearest fix. Params: incident, patrol, point_index,
-- point_at, distance_m, settled.
INSERT INTO patrol_report (incident_id, patrol_id, point_index, point_at, distance_m, settled_on_spot)
VALUES (:incident, :patrol, :point_index, :point_at, :distance_m, :settled)
