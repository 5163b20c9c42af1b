-- Revoke a client app's key (its row stays: the requests it posted still name it); the old state.
WITH old AS (SELECT id, revoked_at FROM open311_client WHERE name = :name FOR UPDATE)
UPDATE open311_client c SET revoked_at = coalesce(old.revoked_at, now())
FROM old WHERE c.id = old.id
RETURNING c.id, old.revoked_at AS was_revoked_at
