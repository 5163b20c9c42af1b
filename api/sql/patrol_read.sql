-- One patrol in the caller's reach with its track (GeoJSON, 2D), each vertex's time and the
-- grid's geometry. Params: id, everywhere, scope, own, me.
SELECT p.id, p.grid_code, p.worker, p.started_at, p.ended_at, p.fixes, p.first_at, p.last_at, p.length_m,
       p.duration_s, p.places_total, p.places_visited AS visited, p.area_share, p.track IS NOT NULL AS track_kept,
       CAST(ST_AsGeoJSON(ST_Force2D(p.track), 7) AS jsonb) AS track,
       ARRAY(SELECT to_timestamp(ST_M(d.geom)) FROM ST_DumpPoints(p.track) d ORDER BY d.path) AS times,
       (SELECT CAST(ST_AsGeoJSON(a.geom, 7) AS jsonb) FROM area a
        WHERE a.code = p.grid_code AND a.valid_to IS NULL) AS grid
FROM patrol p
WHERE p.id = :id
  AND (CAST(:everywhere AS boolean) OR p.areas && CAST(:scope AS text[])
       OR (CAST(:own AS boolean) AND p.worker = CAST(:me AS text)))
