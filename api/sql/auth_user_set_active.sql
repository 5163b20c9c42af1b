-- Activate or deactivate an account; returns its id and previous state.
UPDATE app_user u SET active = :active
FROM (SELECT id, active FROM app_user WHERE username = :username FOR UPDATE) before
WHERE u.id = before.id
RETURNING u.id, before.active AS was_active
