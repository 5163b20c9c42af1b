-- Each patrol's figures from its track: length (geodesic), duration (first to last fix), the grid's
-- current places and those within 30 m of the track (visited), and the share of the grid's area
-- within 50 m of the track (buffer and areas in the grid's UTM zone, metres). Patrols without a
-- track give no row. Params: ids.
WITH p AS (
    SELECT p.id, p.grid_code, ST_Force2D(p.track) AS line, p.first_at, p.last_at
    FROM patrol p WHERE p.id = ANY(CAST(:ids AS bigint[])) AND p.track IS NOT NULL
), g AS (
    SELECT p.*, a.geom,
           (CASE WHEN ST_Y(ST_Centroid(a.geom)) >= 0 THEN 32600 ELSE 32700 END)
             + least(60, floor((ST_X(ST_Centroid(a.geom)) + 180) / 6)::int + 1) AS utm
    FROM p JOIN area a ON a.code = p.grid_code AND a.valid_to IS NULL AND a.kind = 'grid'
)
SELECT g.id,
       ST_Length(g.line::geography) AS length_m,
       extract(epoch FROM g.last_at - g.first_at)::float8 AS duration_s,
       pl.total AS places_total,
       coalesce(pl.visited, '{}') AS places_visited,
       least(1.0, ST_Area(ST_Intersection(ST_Transform(g.geom, g.utm),
                                          ST_Buffer(ST_Transform(g.line, g.utm), 50)))
                  / nullif(ST_Area(ST_Transform(g.geom, g.utm)), 0)) AS area_share
FROM g
CROSS JOIN LATERAL (
    SELECT count(*)::int AS total,
           array_agg(x.code ORDER BY x.code) FILTER (WHERE ST_DWithin(x.location::geography, g.line::geography, 30))
             AS visited
    FROM place x WHERE x.valid_to IS NULL AND x.grid_code = g.grid_code
) pl
