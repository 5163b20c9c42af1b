SELECT u.username, u.display_name, u.unit_code, u.active,
       coalesce(array_agg(g.role || '@' || g.area_code ORDER BY g.role, g.area_code)
                FILTER (WHERE g.id IS NOT NULL), '{}') AS grants
FROM app_user u LEFT JOIN role_grant g ON g.user_id = u.id
GROUP BY u.id ORDER BY u.username
