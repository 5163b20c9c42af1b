-- A duplicate's reporter and its own supporters follow the original case: they become
-- supporters of it (via 'merge', remembering where they came from); the duplicate's reporter
-- keeps the role of a reporter, and a me-too supporter keeps its own code (which then leads to
-- the original case). Returns how many.
WITH moved AS (
    INSERT INTO incident_supporter (incident_id, via, from_incident_id, token_hash, joined_at, role,
                                    tracking_code)
    SELECT :original_id, 'merge', :duplicate_id, t.token_hash, :at, t.role, t.tracking_code
    FROM (SELECT reporter_token_hash AS token_hash, 'reporter' AS role, NULL AS tracking_code
          FROM incident WHERE id = :duplicate_id
          UNION ALL
          SELECT token_hash, role, tracking_code FROM incident_supporter WHERE incident_id = :duplicate_id) t
    ON CONFLICT DO NOTHING
    RETURNING 1
), counted AS (
    UPDATE incident SET supporters = supporters + (SELECT count(*) FROM moved) WHERE id = :original_id
)
SELECT count(*) FROM moved
