-- Early warning: counts per place (the fine cell, or the grid: areas[1]) in the recent window
-- [:recent_start, :stop) and in the baseline window [:base_start, :recent_start), in reach.
SELECT CASE WHEN CAST(:by_grid AS boolean) THEN areas[1] ELSE cell END AS place,
       sum(n) FILTER (WHERE hour >= :recent_start)::int AS recent,
       coalesce(sum(n) FILTER (WHERE hour < :recent_start), 0)::int AS baseline
FROM incident_heat
WHERE hour >= :base_start AND hour < :stop
  AND (CAST(:categories AS text[]) IS NULL OR category = ANY(CAST(:categories AS text[])))
  AND (CAST(:everywhere AS boolean) OR areas && CAST(:scope AS text[]))
  AND (NOT CAST(:by_grid AS boolean) OR areas[1] <> '')
GROUP BY 1
HAVING sum(n) FILTER (WHERE hour >= :recent_start) >= :min_count
