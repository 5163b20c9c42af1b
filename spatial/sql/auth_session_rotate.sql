-- Rotate the refresh token of a live session; no row if the presented jti is not the current one.
UPDATE auth_session SET refresh_jti = :new_jti
WHERE id = :session_id AND refresh_jti = :old_jti AND revoked_at IS NULL AND expires_at > now()
RETURNING user_id
