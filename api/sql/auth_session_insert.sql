INSERT INTO auth_session (id, user_id, refresh_jti, expires_at) VALUES (:id, :user_id, :jti, :expires_at)
