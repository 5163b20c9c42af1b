-- A grid code that is no longer current (split, merged or redrawn away): its last outline and
-- the current grids that now cover that ground (at least 1% of it), largest share first. No row:
-- never a grid.
WITH last AS (
    SELECT a.code, a.name, a.geom FROM area a
    WHERE a.code = :code AND a.kind = 'grid' AND a.valid_to IS NOT NULL
      AND NOT EXISTS (SELECT FROM area c WHERE c.code = a.code AND c.valid_to IS NULL)
    ORDER BY a.valid_to DESC LIMIT 1
)
SELECT l.code, l.name, ST_X(ST_PointOnSurface(l.geom)) AS lon, ST_Y(ST_PointOnSurface(l.geom)) AS lat,
       (SELECT coalesce(json_agg(json_build_object('code', s.code, 'name', s.name) ORDER BY s.share DESC, s.code),
                        '[]'::json)
        FROM (SELECT g.code, g.name, ST_Area(ST_Intersection(g.geom, l.geom)) AS share
              FROM area_current g
              WHERE g.kind = 'grid' AND ST_Intersects(g.geom, l.geom)) s
        WHERE s.share > 0.01 * ST_Area(l.geom)) AS successors  -- not a neighbour's sliver along the edge
FROM last l
