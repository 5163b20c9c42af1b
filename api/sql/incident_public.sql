-- A reporter's view of their case, found by a tracking code: the case's own (its reporter, and
-- the supporters without a code of their own: reporters of merged duplicates) or a me-too supporter's own code (the supporter alone; of
-- the cases holding it, the one still open after a merge). No personal data, place to about
-- 100 m; the caller's role decides the times shown (api.reporters).
WITH found AS (
    (SELECT i.id, NULL::bigint AS code_supporter FROM incident i WHERE i.tracking_code = :tracking_code)
    UNION ALL
    (SELECT s.incident_id, s.id FROM incident_supporter s JOIN incident d ON d.id = s.incident_id
     WHERE s.tracking_code = :tracking_code
     ORDER BY d.duplicate_of IS NOT NULL, s.id DESC
     LIMIT 1)
    LIMIT 1
)
SELECT i.id, i.tracking_code, i.category_code, c.name AS category_name, c.name_en AS category_name_en, i.status, i.reported_at,
       i.closed_at, i.due_at, shown_coordinate(ST_X(i.location), false) AS lon,
       shown_coordinate(ST_Y(i.location), false) AS lat, i.rating,
       CASE WHEN f.code_supporter IS NULL THEN i.reporter_token_hash END AS reporter_token_hash,
       (SELECT coalesce(json_agg(json_build_object('id', s.id, 'token_hash', s.token_hash, 'role', s.role,
                                                   'tracking_code', s.tracking_code)), '[]'::json)
        FROM incident_supporter s
        WHERE s.incident_id = i.id AND s.token_hash IS NOT NULL
          AND (s.id = f.code_supporter OR (f.code_supporter IS NULL AND s.tracking_code IS NULL))) AS supporters,
       (SELECT o.tracking_code FROM incident o WHERE o.id = i.duplicate_of) AS merged_into,
       (SELECT coalesce(json_agg(json_build_object(
                    'at', e.at, 'kind', e.kind, 'status', e.to_status,
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
FROM found f JOIN incident i ON i.id = f.id JOIN category c ON c.code = i.category_code
