-- A unit and its active assignments with the case each belongs to, soonest due first.
SELECT a.id AS assignment_id, i.id AS incident_id, i.tracking_code, i.category_code,
       c.name AS category_name, c.name_en AS category_name_en, i.description, i.priority, i.status,
       CASE WHEN a.on_scene_at IS NOT NULL THEN 'on_scene' WHEN a.accepted_at IS NOT NULL THEN 'accepted'
            ELSE 'dispatched' END AS assignment_state,
       a.dispatched_at, a.accepted_at, a.on_scene_at, i.due_at,
       ST_X(i.location) AS lon, ST_Y(i.location) AS lat
FROM assignment a
JOIN incident i ON i.id = a.incident_id
JOIN category c ON c.code = i.category_code
WHERE a.unit_code = :unit AND a.cleared_at IS NULL
ORDER BY i.due_at NULLS LAST, a.dispatched_at
