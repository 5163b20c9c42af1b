-- Who may open a case by a tracking code, before anything of the case is read: the case's own
-- code (its reporter, and the supporters without a code of their own: reporters of merged
-- duplicates) or a me-too supporter's own code (the supporter alone; of the cases holding it,
-- the one still open after a merge). The tokens are compared in api.reporters.
WITH found AS (
    (SELECT i.id, NULL::bigint AS code_supporter FROM incident i WHERE i.tracking_code = :tracking_code)
    UNION ALL
    (SELECT s.incident_id, s.id FROM incident_supporter s JOIN incident d ON d.id = s.incident_id
     WHERE s.tracking_code = :tracking_code
     ORDER BY d.duplicate_of IS NOT NULL, s.id DESC
     LIMIT 1)
    LIMIT 1
)
SELECT i.id, i.tracking_code, i.status,
       CASE WHEN f.code_supporter IS NULL THEN i.reporter_token_hash END AS reporter_token_hash,
       (SELECT coalesce(json_agg(json_build_object('id', s.id, 'token_hash', s.token_hash, 'role', s.role,
                                                   'tracking_code', s.tracking_code)), '[]'::json)
        FROM incident_supporter s
        WHERE s.incident_id = i.id AND s.token_hash IS NOT NULL
          AND (s.id = f.code_supporter OR (f.code_supporter IS NULL AND s.tracking_code IS NULL))) AS supporters
FROM found f JOIN incident i ON i.id = f.id
