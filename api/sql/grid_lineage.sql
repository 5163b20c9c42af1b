-- A current grid and the areas above it (for the reach check); no row: no such grid.
SELECT g.code, array_remove(ARRAY[g.code, c.code, s.code, s.parent_code,
       (SELECT z.code FROM area z WHERE z.kind = 'zone' AND z.valid_to IS NULL
        AND ST_Covers(z.geom, ST_PointOnSurface(g.geom)) ORDER BY z.code LIMIT 1)], NULL) AS areas
FROM area g
LEFT JOIN area c ON c.valid_to IS NULL AND c.code = g.parent_code
LEFT JOIN area s ON s.valid_to IS NULL AND s.code = c.parent_code
WHERE g.code = :code AND g.kind = 'grid' AND g.valid_to IS NULL
