-- What a reconnecting client missed: case-file events after :after within its reach. Ids are
-- taken when a transaction writes, but transactions commit in their own order: the events
-- just below :after written in the 30 seconds before it are sent again too (the client keeps
-- the ids it has seen), so one that committed late is not lost.
SELECT e.id AS event_id, e.incident_id, e.kind, e.to_status, e.at,
       i.status, i.category_code AS category, i.priority, i.due_at, i.areas,
       ST_X(i.location) AS lon, ST_Y(i.location) AS lat,
       ARRAY(SELECT a.unit_code FROM assignment a WHERE a.incident_id = i.id) AS units
FROM incident_event e
JOIN incident i ON i.id = e.incident_id
WHERE (e.id > :after OR (e.id > :after - 256 AND e.at >= (
        SELECT p.at - interval '30 seconds' FROM incident_event p WHERE p.id = :after)))
  AND incident_in_reach(i.id, i.areas, CAST(:everywhere AS boolean), CAST(:scope AS text[]), CAST(:unit AS text))
ORDER BY e.id
LIMIT :limit
