-- A reporter's view of their case (api.reporters.track): no personal data, the place to about
-- 100 m, and the times exact for the case's reporter, to the hour for a supporter (:detailed),
-- by the same shown_time rule as every other document.
SELECT i.id, i.category_code, c.name AS category_name, c.name_en AS category_name_en, i.status,
       shown_time(i.reported_at, :detailed) AS reported_at, shown_time(i.closed_at, :detailed) AS closed_at,
       shown_time(i.due_at, :detailed) AS due_at, shown_coordinate(ST_X(i.location), false) AS lon,
       shown_coordinate(ST_Y(i.location), false) AS lat, i.rating,
       CASE WHEN :detailed THEN (SELECT o.tracking_code FROM incident o WHERE o.id = i.duplicate_of) END AS merged_into,
       (SELECT coalesce(json_agg(json_build_object(
                    'at', shown_time(e.at, :detailed), 'kind', e.kind, 'status', e.to_status,
                    -- what was done, where the unit or the desk chose to show it (api.workflow.cases.PUBLIC_OUTCOMES)
                    'note', CASE WHEN (e.data ->> 'public')::boolean THEN e.note END,
                    'photos', CASE WHEN (e.data ->> 'public')::boolean THEN
                        (SELECT coalesce(json_agg(a.sha256 ORDER BY a.added_at, a.sha256), '[]'::json)
                         FROM incident_attachment a WHERE a.incident_id = i.id AND a.event_id = e.id)
                        ELSE '[]'::json END)
                                 ORDER BY e.at, e.id), '[]'::json)
        FROM incident_event e WHERE e.incident_id = i.id AND e.kind <> 'read_contact') AS events,
       (SELECT coalesce(json_agg(a.sha256 ORDER BY a.added_at, a.sha256), '[]'::json)
        FROM incident_attachment a WHERE a.incident_id = i.id AND a.added_by = 'reporter') AS reporter_photos
FROM incident i JOIN category c ON c.code = i.category_code
WHERE i.id = :id
