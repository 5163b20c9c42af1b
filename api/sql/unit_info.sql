SELECT code, name, department_code, status, position_at, ST_X(position) AS lon, ST_Y(position) AS lat
FROM unit WHERE code = :unit
