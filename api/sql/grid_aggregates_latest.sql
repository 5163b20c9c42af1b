-- Each current grid's latest counts, for the grids under an area (nullable: all) in reach
-- (a grid is in reach when it or an area above it is in scope).
WITH grids AS (
    SELECT g.code, array_remove(ARRAY[g.code, c.code, s.code, s.parent_code], NULL) AS above
    FROM area g
    LEFT JOIN area c ON c.valid_to IS NULL AND c.code = g.parent_code
    LEFT JOIN area s ON s.valid_to IS NULL AND s.code = c.parent_code
    WHERE g.kind = 'grid' AND g.valid_to IS NULL
)
SELECT DISTINCT ON (a.grid_code) a.grid_code, a.as_of, a.households, a.registered_residents,
       a.non_local_residents, a.elderly_alone, a.source, a.recorded_at, a.recorded_by
FROM grid_aggregate a JOIN grids g ON g.code = a.grid_code
WHERE (CAST(:everywhere AS boolean) OR g.above && CAST(:scope AS text[]))
  AND (CAST(:area AS text) IS NULL OR CAST(:area AS text) = ANY(g.above))
ORDER BY a.grid_code, a.as_of DESC
