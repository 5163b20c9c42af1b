-- The caller behind an access token: active user, live session (and its end, for the cache), grants.
SELECT u.id, u.username, u.unit_code, s.id AS session_id, s.expires_at,
       coalesce(array_agg(g.role || '|' || g.area_code ORDER BY g.role, g.area_code)
                FILTER (WHERE g.id IS NOT NULL), '{}') AS grants
FROM auth_session s
JOIN app_user u ON u.id = s.user_id
LEFT JOIN role_grant g ON g.user_id = u.id
WHERE s.id = :session_id AND u.id = :user_id AND u.active
  AND s.revoked_at IS NULL AND s.expires_at > now()
GROUP BY u.id, s.id
