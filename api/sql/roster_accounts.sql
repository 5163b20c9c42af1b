-- Accounts of these usernames with their grants (role|area). Params: usernames.
SELECT u.username, u.display_name, u.unit_code,
       coalesce(array_agg(g.role || '|' || g.area_code) FILTER (WHERE g.id IS NOT NULL), '{}') AS grants
FROM app_user u LEFT JOIN role_grant g ON g.user_id = u.id
WHERE u.username = ANY(CAST(:usernames AS text[]))
GROUP BY u.id
