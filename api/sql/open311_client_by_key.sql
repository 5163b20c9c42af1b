-- The client app holding an API key (looked up by the key's keyed digest).
SELECT id, name, revoked_at FROM open311_client WHERE key_hash = :key_hash
