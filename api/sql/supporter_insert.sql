-- A resident says "me too": a supporter of the case instead of a new one, with a tracking
-- code of its own, remembered by its phone (one me-too per phone per case: a second is no row).
WITH s AS (
    INSERT INTO incident_supporter (incident_id, via, token_hash, tracking_code, device_hash, role)
    VALUES (:id, 'me_too', :token_hash, :tracking_code, :device_hash, 'supporter')
    ON CONFLICT (incident_id, device_hash) WHERE device_hash IS NOT NULL AND via = 'me_too' DO NOTHING
    RETURNING id
)
UPDATE incident SET supporters = supporters + 1, updated_at = now()
WHERE id = :id AND EXISTS (SELECT FROM s)
RETURNING supporters
