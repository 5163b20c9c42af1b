-- A new password for an account (its hash); returns its id, or nothing when there is no such user.
UPDATE app_user SET password_hash = :password_hash WHERE username = :username RETURNING id
