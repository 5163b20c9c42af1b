-- the sealed contacts after :after_id, a batch at a time, for a key rotation
SELECT id, reporter_contact FROM incident
WHERE reporter_contact IS NOT NULL AND id > :after_id
ORDER BY id LIMIT :batch
