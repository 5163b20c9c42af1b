-- The case-file events a NOTIFY announced (ids :lo..:hi), with what the listeners filter them
-- by: the areas the case lies in and the units sent to it (the reach rule of incident_in_reach).
SELECT e.id AS event_id, e.incident_id, e.kind, e.to_status, e.at,
       i.status, i.category_code AS category, i.priority, i.due_at, i.areas,
       ST_X(i.location) AS lon, ST_Y(i.location) AS lat,
       ARRAY(SELECT a.unit_code FROM assignment a WHERE a.incident_id = i.id) AS units
FROM incident_event e
JOIN incident i ON i.id = e.incident_id
WHERE e.id BETWEEN :lo AND :hi
ORDER BY e.id
LIMIT :limit
