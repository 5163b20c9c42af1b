-- Heatmap counts per resolution-9 cell from the rollup (incident_heat), over whole hours
-- [:start, :stop), with optional filters (NULL: any) and the caller's reach over areas.
SELECT cell, sum(n)::int AS n
FROM incident_heat
WHERE hour >= :start AND hour < :stop
  AND (CAST(:categories AS text[]) IS NULL OR category = ANY(CAST(:categories AS text[])))
  AND (CAST(:statuses AS text[]) IS NULL OR status = ANY(CAST(:statuses AS text[])))
  AND (CAST(:tiers AS text[]) IS NULL OR tier = ANY(CAST(:tiers AS text[])))
  AND (CAST(:sources AS text[]) IS NULL OR source = ANY(CAST(:sources AS text[])))
  AND (CAST(:everywhere AS boolean) OR areas && CAST(:scope AS text[]))
GROUP BY cell
HAVING sum(n) > 0
