INSERT INTO app_user (username, display_name, password_hash, unit_code)
VALUES (:username, :display_name, :password_hash, :unit_code)
ON CONFLICT (username) DO NOTHING
RETURNING id
