-- A duplicate's reporter and its own supporters follow the original case: they become
-- supporters of it (via 'merge', remembering where they came from). Returns how many.
WITH moved AS (
    INSERT INTO incident_supporter (incident_id, via, from_incident_id, token_hash, joined_at)
    SELECT :original_id, 'merge', :duplicate_id, t.token_hash, :at
    FROM (SELECT reporter_token_hash AS token_hash FROM incident WHERE id = :duplicate_id
          UNION ALL
          SELECT token_hash FROM incident_supporter WHERE incident_id = :duplicate_id) t
    ON CONFLICT DO NOTHING
    RETURNING 1
), counted AS (
    UPDATE incident SET supporters = supporters + (SELECT count(*) FROM moved) WHERE id = :original_id
)
SELECT count(*) FROM moved
