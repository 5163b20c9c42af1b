-- The grid a point falls in (lowest code on a shared edge) and its community and street.
SELECT g.code AS grid_code, g.name AS grid_name, c.code AS community_code, c.name AS community_name,
       s.code AS street_code, s.name AS street_name
FROM area_current g
LEFT JOIN area_current c ON c.code = g.parent_code
LEFT JOIN area_current s ON s.code = c.parent_code
WHERE g.kind = 'grid' AND ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
ORDER BY g.code
LIMIT 1
