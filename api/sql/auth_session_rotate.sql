-- Rotate the refresh token of a live session of an active user; no row if the presented
-- jti is not the current one, the session ended or the account was deactivated.
UPDATE auth_session s SET refresh_jti = :new_jti
FROM app_user u
WHERE s.id = :session_id AND s.refresh_jti = :old_jti AND s.revoked_at IS NULL AND s.expires_at > now()
  AND u.id = s.user_id AND u.active
RETURNING s.user_id, u.username
