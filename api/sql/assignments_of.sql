-- Every unit sent to a case, first dispatched first.
SELECT a.id, a.unit_code, u.name AS unit_name, u.department_code, a.dispatched_at, a.accepted_at,
       a.on_scene_at, a.cleared_at, a.cleared_reason, a.dispatched_by, a.exclusive
FROM assignment a JOIN unit u ON u.code = a.unit_code
WHERE a.incident_id = :incident_id
ORDER BY a.dispatched_at, a.id
