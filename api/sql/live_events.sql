-- Case-file events for the live stream, with what the listeners filter them by (the case's
-- areas and the units sent to it: the facts of incident_in_reach).
--   hub (:after NULL): the ids a NOTIFY announced, :lo..:hi, everything (the hub filters per
--     subscriber);
--   replay (:after given): what a reconnecting client missed, in its reach. Ids are taken when
--     a transaction writes but transactions commit in their own order, so the events just
--     below :after written in the 30 seconds before it come again too (the client keeps the
--     ids it has seen): one that committed late is not lost.
SELECT e.id AS event_id, e.incident_id, e.kind, e.to_status, e.at,
       i.status, i.category_code AS category, i.priority, i.due_at, i.areas,
       ST_X(i.location) AS lon, ST_Y(i.location) AS lat,
       -- what subscribers without detail rights see (the rule of incident_list.sql)
       shown_time(e.at, false) AS coarse_at, shown_time(i.due_at, false) AS coarse_due_at,
       shown_coordinate(ST_X(i.location), false) AS coarse_lon, shown_coordinate(ST_Y(i.location), false) AS coarse_lat,
       ARRAY(SELECT a.unit_code FROM assignment a WHERE a.incident_id = i.id) AS units
FROM incident_event e
JOIN incident i ON i.id = e.incident_id
WHERE CASE WHEN CAST(:after AS bigint) IS NULL THEN e.id BETWEEN :lo AND :hi
           ELSE (e.id > :after OR (e.id > CAST(:after AS bigint) - 256 AND e.at >= (
                    SELECT p.at - interval '30 seconds' FROM incident_event p WHERE p.id = :after)))
                AND incident_in_reach(i.id, i.areas, CAST(:everywhere AS boolean), CAST(:scope AS text[]),
                                      CAST(:unit AS text)) END
ORDER BY e.id
LIMIT :limit
