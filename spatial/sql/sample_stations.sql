-- The sample's linkage workstations (arrays of their columns); a code present already is kept.
INSERT INTO station (code, name, zone_code, departments, geom)
SELECT x.code, x.name, x.zone_code, string_to_array(x.departments, ','), ST_SetSRID(ST_MakePoint(x.lon, x.lat), 4326)
FROM unnest(CAST(:code AS text[]), CAST(:name AS text[]), CAST(:zone_code AS text[]),
            CAST(:departments AS text[]), CAST(:lon AS float8[]), CAST(:lat AS float8[]))
     AS x(code, name, zone_code, departments, lon, lat)
ON CONFLICT (code) DO NOTHING
