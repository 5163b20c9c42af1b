-- One patrol's summary (no track), for its own worker after a write. Params: id.
SELECT p.id, p.grid_code, p.worker, p.started_at, p.ended_at, p.fixes, p.first_at, p.last_at, p.length_m,
       p.duration_s, p.places_total, cardinality(p.places_visited) AS places_visited, p.area_share,
       p.track IS NOT NULL AS track_kept
FROM patrol p WHERE p.id = :id
