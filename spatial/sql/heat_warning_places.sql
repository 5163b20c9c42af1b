-- What the console shows of the places an early warning flagged: the grid's name (for a cell,
-- the grid its centre lies in), the grid's outline (by grid) and the recent reports by category,
-- in the caller's reach and the same category filter as the warning.
WITH place AS (
    SELECT * FROM unnest(CAST(:places AS text[]), CAST(:lons AS float8[]), CAST(:lats AS float8[])) AS p(place, lon, lat)
)
SELECT p.place, g.code AS grid_code, g.name,
       CASE WHEN CAST(:by_grid AS boolean) THEN ST_AsGeoJSON(g.geom, 6)::json END AS outline,
       (SELECT coalesce(json_object_agg(c.category, c.n ORDER BY c.n DESC, c.category), '{}'::json)
        FROM (SELECT h.category, sum(h.n)::int AS n
              FROM incident_heat h
              WHERE h.hour >= :recent_start AND h.hour < :stop
                AND CASE WHEN CAST(:by_grid AS boolean) THEN h.areas[1] = p.place ELSE h.cell = p.place END
                AND (CAST(:categories AS text[]) IS NULL OR h.category = ANY(CAST(:categories AS text[])))
                AND (CAST(:everywhere AS boolean) OR h.areas && CAST(:scope AS text[]))
              GROUP BY h.category) c) AS categories
FROM place p
LEFT JOIN LATERAL (
    SELECT a.code, a.name, a.geom FROM area a
    WHERE a.valid_to IS NULL AND a.kind = 'grid'
      AND CASE WHEN CAST(:by_grid AS boolean) THEN a.code = p.place
               ELSE ST_Covers(a.geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)) END
    ORDER BY a.code
    LIMIT 1
) g ON true
