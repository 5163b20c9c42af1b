-- The first fix (0-based) farther than margin_m from every current district, with its distance;
-- no row when all are near. Params: lons, lats, margin_m.
WITH fix AS (
    SELECT i - 1 AS i, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS pt
    FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[])) WITH ORDINALITY AS f(lon, lat, i)
)
SELECT fix.i, d.m AS distance_m
FROM fix CROSS JOIN LATERAL (
    SELECT min(ST_Distance(a.geom::geography, fix.pt::geography)) AS m
    FROM area a WHERE a.kind = 'district' AND a.valid_to IS NULL
) d
WHERE d.m > CAST(:margin_m AS float8)
ORDER BY fix.i
LIMIT 1
