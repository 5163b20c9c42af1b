-- End every live session (the token key was rotated); returns how many.
WITH ended AS (
    UPDATE auth_session SET revoked_at = now() WHERE revoked_at IS NULL RETURNING 1
)
SELECT count(*) AS n FROM ended
