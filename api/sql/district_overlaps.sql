-- current districts a new outline overlaps, and by how much (m²)
SELECT a.code, a.name, ST_Area(ST_Intersection(a.geom, g.geom)::geography) AS overlap_m2
FROM area a, (SELECT ST_SetSRID(ST_GeomFromWKB(decode(:wkb, 'hex')), 4326) AS geom) g
WHERE a.kind = 'district' AND a.valid_to IS NULL AND ST_Intersects(a.geom, g.geom)
ORDER BY overlap_m2 DESC
