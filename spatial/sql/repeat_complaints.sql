-- Repeat complaints (重复投诉): reports of the same category within :radius_m metres and
-- :days days of an earlier one, per grid, in the caller's reach, reported in [:start, :stop).
WITH recent AS (
    SELECT i.id, i.grid_code, i.category_code, i.reported_at, i.location
    FROM incident i
    WHERE i.reported_at >= :start AND i.reported_at < :stop AND i.duplicate_of IS NULL
      AND incident_in_reach(i.id, i.areas, CAST(:everywhere AS boolean), CAST(:scope AS text[]), CAST(NULL AS text))
), repeats AS (
    SELECT r.id, r.grid_code, r.category_code
    FROM recent r
    WHERE EXISTS (
        SELECT 1 FROM incident e
        WHERE e.category_code = r.category_code AND e.id <> r.id
          AND e.reported_at < r.reported_at AND e.reported_at >= r.reported_at - make_interval(days => :days)
          AND ST_DWithin(e.location, r.location, :radius_m / 90000.0)  -- index prefilter (degrees, generous)
          AND ST_DWithin(e.location::geography, r.location::geography, :radius_m))
)
SELECT p.grid_code, g.name AS grid_name, p.category_code AS category, count(*)::int AS repeats
FROM repeats p
LEFT JOIN area g ON g.code = p.grid_code AND g.valid_to IS NULL
WHERE p.grid_code IS NOT NULL
GROUP BY p.grid_code, g.name, p.category_code
ORDER BY repeats DESC, p.grid_code, p.category_code
LIMIT :limit
