-- Route many points at once (set-based): grid (lowest code on shared edges) and its
-- ancestors, zone and station. Params: lons float8[], lats float8[].
WITH pts AS (
    SELECT p.ord, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326) AS g
    FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[])) WITH ORDINALITY AS p(lon, lat, ord)
)
SELECT pts.ord AS idx, g.code AS grid_code, c.code AS community_code, s.code AS street_code,
       s.parent_code AS district_code, z.code AS zone_code, st.code AS station_code
FROM pts
LEFT JOIN LATERAL (
    SELECT a.code, a.parent_code FROM area a
    WHERE a.kind = 'grid' AND a.valid_to IS NULL AND ST_Covers(a.geom, pts.g)
    ORDER BY a.code LIMIT 1
) g ON true
LEFT JOIN area c ON c.valid_to IS NULL AND c.code = g.parent_code
LEFT JOIN area s ON s.valid_to IS NULL AND s.code = c.parent_code
LEFT JOIN LATERAL (
    SELECT a.code FROM area a
    WHERE a.kind = 'zone' AND a.valid_to IS NULL AND ST_Covers(a.geom, pts.g)
    ORDER BY a.code LIMIT 1
) z ON true
LEFT JOIN station st ON st.zone_code = z.code
ORDER BY pts.ord
