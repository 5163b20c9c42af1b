-- Patrols the caller may see (supervisors over the grid: areas && scope; the worker: their own),
-- filtered by area (the grid or an area above it), worker and start time, newest first.
-- Params: everywhere, scope, own, me, area, worker, since, until, limit.
SELECT p.id, p.grid_code, p.worker, p.started_at, p.ended_at, p.fixes, p.first_at, p.last_at, p.length_m,
       p.duration_s, p.places_total, cardinality(p.places_visited) AS places_visited, p.area_share,
       p.track IS NOT NULL AS track_kept
FROM patrol p
WHERE (CAST(:everywhere AS boolean) OR p.areas && CAST(:scope AS text[])
       OR (CAST(:own AS boolean) AND p.worker = CAST(:me AS text)))
  AND (CAST(:area AS text) IS NULL OR CAST(:area AS text) = ANY(p.areas))
  AND (CAST(:worker AS text) IS NULL OR p.worker = CAST(:worker AS text))
  AND (CAST(:since AS timestamptz) IS NULL OR p.started_at >= CAST(:since AS timestamptz))
  AND (CAST(:until AS timestamptz) IS NULL OR p.started_at < CAST(:until AS timestamptz))
ORDER BY p.started_at DESC, p.id DESC
LIMIT :limit
