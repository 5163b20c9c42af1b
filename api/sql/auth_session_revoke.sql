-- End one session; returns its user's name (no row if it had ended already).
UPDATE auth_session s SET revoked_at = now()
FROM app_user u
WHERE s.id = :session_id AND s.revoked_at IS NULL AND u.id = s.user_id
RETURNING u.username
