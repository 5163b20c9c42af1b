SELECT code, status, ST_X(position) AS lon, ST_Y(position) AS lat, position_at FROM unit WHERE code = :code
