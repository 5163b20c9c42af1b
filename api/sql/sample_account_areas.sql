-- What the sample accounts are granted over: the district, each street, the busiest
-- grid (for the grid worker) and a police unit (for the officer).
SELECT
    (SELECT code FROM area WHERE kind = 'district' AND valid_to IS NULL ORDER BY code LIMIT 1) AS district,
    (SELECT array_agg(code ORDER BY code) FROM area WHERE kind = 'street' AND valid_to IS NULL) AS streets,
    (SELECT grid_code FROM incident WHERE grid_code IS NOT NULL
     GROUP BY grid_code ORDER BY count(*) DESC, grid_code LIMIT 1) AS busiest_grid,
    (SELECT code FROM unit WHERE department_code = 'police' ORDER BY code LIMIT 1) AS police_unit,
    (SELECT coalesce(array_agg(username), '{}') FROM app_user) AS usernames
