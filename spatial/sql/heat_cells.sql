-- Heatmap counts per cell at :resolution (5..9) from the rollup (incident_heat, resolution-9
-- cells), over whole hours [:start, :stop), with optional filters (NULL: any) and the caller's
-- reach over areas. Coarser cells are summed here, not in Python: an H3 cell's parent is its
-- index with the resolution field (bits 52-55) set and every finer digit (3 bits each) set to 7.
WITH fine AS (
    SELECT cell, sum(n) AS n
    FROM incident_heat
    WHERE hour >= :start AND hour < :stop
      AND (CAST(:categories AS text[]) IS NULL OR category = ANY(CAST(:categories AS text[])))
      AND (CAST(:statuses AS text[]) IS NULL OR status = ANY(CAST(:statuses AS text[])))
      AND (CAST(:tiers AS text[]) IS NULL OR tier = ANY(CAST(:tiers AS text[])))
      AND (CAST(:sources AS text[]) IS NULL OR source = ANY(CAST(:sources AS text[])))
      AND (CAST(:everywhere AS boolean) OR areas && CAST(:scope AS text[]))
    GROUP BY cell
)
SELECT CASE WHEN CAST(:resolution AS int) >= 9 THEN cell
            ELSE lpad(to_hex((CAST(('x' || lpad(cell, 16, '0')) AS bit(64))::bigint & ~(15::bigint << 52))
                             | (CAST(:resolution AS bigint) << 52)
                             | ((1::bigint << (3 * (15 - CAST(:resolution AS int)))) - 1)), 15, '0')
       END AS cell,
       sum(n)::int AS n
FROM fine
GROUP BY 1
HAVING sum(n) > 0
