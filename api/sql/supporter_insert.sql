-- A resident says "me too": a supporter of the case instead of a new one.
WITH s AS (
    INSERT INTO incident_supporter (incident_id, via, token_hash) VALUES (:id, 'me_too', :token_hash)
    RETURNING id
)
UPDATE incident SET supporters = supporters + 1, updated_at = now() WHERE id = :id
RETURNING supporters
