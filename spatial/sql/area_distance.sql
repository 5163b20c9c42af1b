-- Metres from a point to a current area (NULL when no such area).
SELECT ST_Distance(a.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS metres
FROM area_current a WHERE a.code = :code
