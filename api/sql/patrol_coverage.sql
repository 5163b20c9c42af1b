-- Ended patrols' kept figures in the caller's reach, under an area, started in [since, until),
-- one row per patrol or aggregated per (ISO week, grid) or per (worker, grid): patrols, length,
-- duration, the distinct places visited of the grid's places (as counted when each patrol ended),
-- the best and the mean area share.
-- Params: everywhere, scope, own, me, area, since, until, by ('patrol', 'week', 'worker').
WITH p AS (
    SELECT p.*, to_char(p.started_at AT TIME ZONE 'Asia/Shanghai', 'IYYY-"W"IW') AS week
    FROM patrol p
    WHERE p.ended_at IS NOT NULL AND p.places_total IS NOT NULL
      AND (CAST(:everywhere AS boolean) OR p.areas && CAST(:scope AS text[])
           OR (CAST(:own AS boolean) AND p.worker = CAST(:me AS text)))
      AND (CAST(:area AS text) IS NULL OR CAST(:area AS text) = ANY(p.areas))
      AND (CAST(:since AS timestamptz) IS NULL OR p.started_at >= CAST(:since AS timestamptz))
      AND (CAST(:until AS timestamptz) IS NULL OR p.started_at < CAST(:until AS timestamptz))
), k AS (
    SELECT p.*, CASE CAST(:by AS text) WHEN 'patrol' THEN p.id::text WHEN 'week' THEN p.week ELSE p.worker END AS key
    FROM p
)
SELECT k.key, k.grid_code,
       CASE WHEN CAST(:by AS text) = 'week' THEN NULL ELSE min(k.worker) END AS worker,
       CASE WHEN CAST(:by AS text) = 'worker' THEN NULL ELSE min(k.week) END AS week,
       count(*)::int AS patrols, sum(coalesce(k.length_m, 0)) AS length_m, sum(coalesce(k.duration_s, 0)) AS duration_s,
       max(k.places_total) AS places_total,
       (SELECT count(DISTINCT v)::int FROM k k2, unnest(k2.places_visited) v
        WHERE k2.key = k.key AND k2.grid_code = k.grid_code) AS places_visited,
       max(k.area_share) AS area_share, avg(k.area_share) AS area_share_mean
FROM k
GROUP BY k.key, k.grid_code
ORDER BY min(k.started_at), k.key, k.grid_code
