-- Metres from a point to the nearest current district (0 inside); NULL when there is none.
SELECT min(ST_Distance(a.geom::geography, ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326)::geography))
FROM area a WHERE a.kind = 'district' AND a.valid_to IS NULL
