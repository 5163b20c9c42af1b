-- the units named for a team, with their department and station
SELECT code, department_code AS department, station_code AS station FROM unit WHERE code = ANY(CAST(:codes AS text[]))
