-- A new Open311 client app: only the keyed digest of its key is stored; a taken name inserts nothing.
INSERT INTO open311_client (name, key_hash, created_by) VALUES (:name, :key_hash, :created_by)
ON CONFLICT (name) DO NOTHING
RETURNING id
