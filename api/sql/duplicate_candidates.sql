-- Open cases of the same category within :radius_m metres reported in the last :hours hours,
-- nearest first: what a new report may be a duplicate of. Nothing personal, place to ~100 m.
SELECT i.id, i.category_code, i.status,
       round(ST_Distance(i.location::geography, p.g::geography))::int AS distance_m,
       date_trunc('hour', i.reported_at) AS reported_at,
       shown_coordinate(ST_X(i.location), false) AS lon, shown_coordinate(ST_Y(i.location), false) AS lat,
       i.supporters
FROM incident i, (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g) p
WHERE i.category_code = :category
  AND i.status NOT IN ('closed', 'void', 'duplicate', 'not_responsible')
  AND i.reported_at >= now() - make_interval(hours => :hours)
  AND ST_DWithin(i.location, p.g, :radius_m / 111320.0 / cos(radians(:lat)))   -- index-friendly prefilter
  AND ST_DWithin(i.location::geography, p.g::geography, :radius_m)
  AND (CAST(:exclude_id AS bigint) IS NULL OR i.id <> CAST(:exclude_id AS bigint))
ORDER BY ST_Distance(i.location::geography, p.g::geography), i.id
LIMIT :limit
