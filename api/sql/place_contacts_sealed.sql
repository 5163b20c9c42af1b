-- the sealed contacts of places (every version) after :after_id, a batch at a time, for a key rotation
SELECT id, contact AS reporter_contact FROM place
WHERE contact IS NOT NULL AND id > :after_id
ORDER BY id LIMIT :batch
