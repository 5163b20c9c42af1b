SELECT id, password_hash, active FROM app_user WHERE username = :username
