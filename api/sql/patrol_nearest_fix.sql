-- The fix of a patrol's track nearest a point: its index (0-based), time and distance in metres.
-- Params: id, lon, lat.
SELECT (d.path[1] - 1) AS point_index, to_timestamp(ST_M(d.geom)) AS point_at,
       ST_Distance(ST_Force2D(d.geom)::geography,
                   ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326)::geography) AS distance_m
FROM patrol p, ST_DumpPoints(p.track) d
WHERE p.id = :id
ORDER BY ST_Force2D(d.geom) <-> ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326), d.path
LIMIT 1
