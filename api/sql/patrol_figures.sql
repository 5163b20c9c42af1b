-- Each patrol's figures from its track: duration (first to last fix), the grid's current places
-- and those within 30 m of the track (visited), and the share of the grid's area within 50 m of the
-- track. Both in the grid's UTM zone (metres), on the track simplified to 0.00001° (about a metre)
-- first: a day's track of 2,880 fixes keeps about a fifth of its vertices, three times faster, and
-- the area share moves by less than 0.005 (bench section 11). The length is the geodesic sum kept
-- as fixes arrive (patrol_append.sql). Patrols without a track give no row. Params: ids.
WITH g AS MATERIALIZED (
    SELECT p.id, p.grid_code, p.first_at, p.last_at, a.geom,
           ST_Transform(ST_Simplify(ST_Force2D(p.track), 0.00001),
                        (CASE WHEN ST_Y(ST_Centroid(a.geom)) >= 0 THEN 32600 ELSE 32700 END)
                          + least(60, floor((ST_X(ST_Centroid(a.geom)) + 180) / 6)::int + 1)) AS line
    FROM patrol p JOIN area a ON a.code = p.grid_code AND a.valid_to IS NULL AND a.kind = 'grid'
    WHERE p.id = ANY(CAST(:ids AS bigint[])) AND p.track IS NOT NULL
), m AS MATERIALIZED (
    SELECT g.*, ST_Transform(g.geom, ST_SRID(g.line)) AS grid_m FROM g
)
SELECT m.id,
       extract(epoch FROM m.last_at - m.first_at)::float8 AS duration_s,
       pl.total AS places_total,
       coalesce(pl.visited, '{}') AS places_visited,
       least(1.0, ST_Area(ST_Intersection(m.grid_m, ST_Buffer(m.line, 50)))
                  / nullif(ST_Area(m.grid_m), 0)) AS area_share
FROM m
CROSS JOIN LATERAL (
    SELECT count(*)::int AS total,
           array_agg(x.code ORDER BY x.code)
             FILTER (WHERE ST_DWithin(ST_Transform(x.location, ST_SRID(m.line)), m.line, 30)) AS visited
    FROM place x WHERE x.valid_to IS NULL AND x.grid_code = m.grid_code
) pl
