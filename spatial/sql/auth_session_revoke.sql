UPDATE auth_session SET revoked_at = now() WHERE id = :session_id AND revoked_at IS NULL
