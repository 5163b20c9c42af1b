-- Route one point: grid and its ancestors, zone and station, patrol zones, nearest
-- available units of each responsible department, boundary / unrouted flags.
-- One round trip; returns a single json document.
-- Params: lon, lat, category, tolerance_m, stale_s, k; everywhere, scope, unit: the caller's
-- reach over units (unit_in_reach), which marks each unit picked with "shown".
WITH pt AS (
    SELECT ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326) AS g,
           CAST(:tolerance_m AS float8) AS tol,
           -- degrees that surely cover tol metres at this latitude (index prefilter)
           CAST(:tolerance_m AS float8) / (111320.0 * greatest(cos(radians(CAST(:lat AS float8))), 0.01)) AS tol_deg,
           ix.cell IS NOT NULL AS ix_found, ix.grid_code AS ix_grid,
           -- the index cell keeps every other grid farther than the tolerance
           (ix.grid_code IS NOT NULL AND ix.clearance_m > CAST(:tolerance_m AS float8)) IS TRUE AS ix_clear
    FROM (SELECT 1) one
    LEFT JOIN LATERAL (   -- routing index (spatial/routing_index.py): the point's cell at each level
        SELECT rc.cell, rc.grid_code, rc.clearance_m
        FROM routing_index_state s, generate_series(CAST(s.min_level AS int), CAST(s.max_level AS int)) AS l(level)
        JOIN routing_cell rc ON rc.cell = (CAST(l.level AS bigint) << 50)
            | (CAST(floor((CAST(:lon AS float8) + 180.0) * power(2.0::float8, l.level)) AS bigint) << 25)
            | CAST(floor((CAST(:lat AS float8) + 90.0) * power(2.0::float8, l.level)) AS bigint)
        LIMIT 1
    ) ix ON true
),
covering AS (   -- every current grid covering the point (two or more on a shared edge);
                -- a cell of the routing index answers for its one grid, boundary cells go exact
    SELECT pt.ix_grid AS code FROM pt WHERE pt.ix_grid IS NOT NULL
    UNION ALL
    SELECT a.code FROM area a, pt
    WHERE NOT pt.ix_found AND a.kind = 'grid' AND a.valid_to IS NULL AND ST_Covers(a.geom, pt.g)
),
grid AS (       -- fixed tie-break: lowest code
    SELECT a.code, a.name, a.parent_code FROM area a
    WHERE a.valid_to IS NULL AND a.code = (SELECT min(code) FROM covering)
),
community AS (
    SELECT a.code, a.name, a.parent_code FROM area a, grid
    WHERE a.valid_to IS NULL AND a.code = grid.parent_code
),
street AS (
    SELECT a.code, a.name, a.parent_code FROM area a, community
    WHERE a.valid_to IS NULL AND a.code = community.parent_code
),
district AS (
    SELECT a.code, a.name FROM area a, street
    WHERE a.valid_to IS NULL AND a.code = street.parent_code
),
candidates AS ( -- grids within the tolerance: more than one means "near a boundary"
    SELECT grid.code, grid.name, CAST(0 AS float8) AS distance_m FROM grid, pt WHERE pt.ix_clear
    UNION ALL
    SELECT a.code, a.name, ST_Distance(a.geom::geography, pt.g::geography) AS distance_m
    FROM area a, pt
    WHERE NOT pt.ix_clear AND a.kind = 'grid' AND a.valid_to IS NULL
      AND ST_DWithin(a.geom, pt.g, pt.tol_deg)
      AND ST_Distance(a.geom::geography, pt.g::geography) <= pt.tol
),
nearest_grid AS ( -- only used when no grid covers the point
    SELECT n.code, n.name, ST_Distance(n.geom::geography, pt.g::geography) AS distance_m
    FROM pt, LATERAL (
        SELECT a.code, a.name, a.geom FROM area a
        WHERE a.kind = 'grid' AND a.valid_to IS NULL
        ORDER BY a.geom <-> pt.g LIMIT 1
    ) n
    WHERE NOT EXISTS (SELECT 1 FROM covering)
),
zone AS (
    SELECT a.code, a.name FROM area a, pt
    WHERE a.kind = 'zone' AND a.valid_to IS NULL AND ST_Covers(a.geom, pt.g)
    ORDER BY a.code LIMIT 1
),
station AS (
    SELECT s.code, s.name, s.departments, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat
    FROM station s, zone WHERE s.zone_code = zone.code
),
cat AS (
    SELECT c.code, c.departments, c.deadlines FROM category c WHERE c.code = :category   -- deadlines: for intake
),
dept AS (
    SELECT d.code, d.ord FROM cat, unnest(cat.departments) WITH ORDINALITY AS d(code, ord)
),
patrol AS (
    SELECT DISTINCT ON (dept.code) dept.code AS department, a.code, a.name
    FROM dept, pt, area a
    WHERE a.kind = 'patrol_zone' AND a.valid_to IS NULL AND a.department_code = dept.code
      AND ST_Covers(a.geom, pt.g)
    ORDER BY dept.code, a.code
),
excluded AS (   -- what the pick left out, per department, for the record
    SELECT u.department_code AS department,
           count(*) FILTER (WHERE u.status <> 'available') AS not_available,
           count(*) FILTER (WHERE u.status = 'available'
               AND (u.position IS NULL OR u.position_at IS NULL
                    OR u.position_at < now() - make_interval(secs => CAST(:stale_s AS float8)))) AS stale
    FROM unit u JOIN dept ON dept.code = u.department_code
    GROUP BY u.department_code
),
units AS (
    -- KNN on the planar index (<-> in ORDER BY), a few more than needed, then the
    -- exact spheroid distance decides the order.
    SELECT dept.code AS department, dept.ord, k.*,
           row_number() OVER (PARTITION BY dept.code ORDER BY k.distance_m, k.code) AS rank
    FROM dept, pt, LATERAL (
        SELECT c.code, c.name, c.station_code, c.patrol_zone_code, c.position_at,
               ST_X(c.position) AS lon, ST_Y(c.position) AS lat,
               ST_Distance(c.position::geography, pt.g::geography) AS distance_m
        FROM (
            SELECT u.* FROM unit u
            WHERE u.department_code = dept.code AND u.status = 'available'
              AND u.position IS NOT NULL
              AND u.position_at >= now() - make_interval(secs => CAST(:stale_s AS float8))
            ORDER BY u.position <-> pt.g
            LIMIT CAST(:k AS int) * 3
        ) c
    ) k
)
SELECT json_build_object(
    'grid', (SELECT row_to_json(grid) FROM grid),
    'community', (SELECT row_to_json(community) FROM community),
    'street', (SELECT row_to_json(street) FROM street),
    'district', (SELECT row_to_json(district) FROM district),
    'covering_grids', (SELECT coalesce(json_agg(code ORDER BY code), '[]'::json) FROM covering),
    'candidates', (SELECT coalesce(json_agg(json_build_object('code', code, 'name', name,
                        'distance_m', round(distance_m::numeric, 2)) ORDER BY distance_m, code), '[]'::json)
                   FROM candidates),
    'nearest_grid', (SELECT json_build_object('code', code, 'name', name,
                        'distance_m', round(distance_m::numeric, 2)) FROM nearest_grid),
    'zone', (SELECT row_to_json(zone) FROM zone),
    'station', (SELECT row_to_json(station) FROM station),
    'category', (SELECT row_to_json(cat) FROM cat),
    'patrol_zones', (SELECT coalesce(json_agg(row_to_json(patrol) ORDER BY department), '[]'::json) FROM patrol),
    'units', (SELECT coalesce(json_agg(json_build_object(
                  'department', u.department, 'rank', u.rank, 'code', u.code, 'name', u.name,
                  'station_code', u.station_code, 'patrol_zone_code', u.patrol_zone_code,
                  'lon', u.lon, 'lat', u.lat, 'distance_m', round(u.distance_m::numeric, 1),
                  'position_age_s', round(extract(epoch FROM now() - u.position_at)),
                  'reason', format('nearest available %s unit #%s, %s m away, position %s s old; %s busy/off duty and %s stale skipped',
                                   u.department, u.rank, round(u.distance_m::numeric), round(extract(epoch FROM now() - u.position_at)),
                                   coalesce(e.not_available, 0), coalesce(e.stale, 0)),
                  'shown', unit_in_reach(u.station_code, u.code, CAST(:everywhere AS boolean),
                                         CAST(:scope AS text[]), CAST(:unit AS text))
              ) ORDER BY u.ord, u.rank), '[]'::json)
              FROM units u LEFT JOIN excluded e ON e.department = u.department
              WHERE u.rank <= CAST(:k AS int)),
    'excluded', (SELECT coalesce(json_agg(row_to_json(excluded) ORDER BY department), '[]'::json) FROM excluded),
    'swapped_inside', (SELECT EXISTS (
          SELECT 1 FROM area a
          WHERE a.kind = 'district' AND a.valid_to IS NULL
            AND ST_Covers(a.geom, ST_SetSRID(ST_MakePoint(CAST(:lat AS float8), CAST(:lon AS float8)), 4326))))
) AS doc
