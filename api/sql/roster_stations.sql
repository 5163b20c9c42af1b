-- Stations of these codes, as a roster file compares them (positions to the file's 7 decimals). Params: codes.
SELECT code, name, zone_code AS zone, departments, round(ST_X(geom)::numeric, 7)::float8 AS lon,
       round(ST_Y(geom)::numeric, 7)::float8 AS lat
FROM station WHERE code = ANY(CAST(:codes AS text[]))
