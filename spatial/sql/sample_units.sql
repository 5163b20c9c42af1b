-- The sample's units with a fix as old as the sample says (arrays of their columns); a code present is kept.
INSERT INTO unit (code, name, department_code, station_code, patrol_zone_code, status, position, position_at)
SELECT x.code, x.name, x.department_code, x.station_code, x.patrol_zone_code, x.status,
       ST_SetSRID(ST_MakePoint(x.lon, x.lat), 4326), now() - make_interval(secs => x.age)
FROM unnest(CAST(:code AS text[]), CAST(:name AS text[]), CAST(:department_code AS text[]),
            CAST(:station_code AS text[]), CAST(:patrol_zone_code AS text[]), CAST(:status AS text[]),
            CAST(:lon AS float8[]), CAST(:lat AS float8[]), CAST(:age AS float8[]))
     AS x(code, name, department_code, station_code, patrol_zone_code, status, lon, lat, age)
ON CONFLICT (code) DO NOTHING
