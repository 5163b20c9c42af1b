-- Metres from a point to the current area of this code (0 inside); NULL when there is none.
SELECT ST_Distance(a.geom::geography,
                   ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326)::geography)
FROM area a WHERE a.code = :code AND a.valid_to IS NULL
