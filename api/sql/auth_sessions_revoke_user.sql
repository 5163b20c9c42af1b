-- End every live session of one user (deactivation).
UPDATE auth_session SET revoked_at = now() WHERE user_id = :user_id AND revoked_at IS NULL
