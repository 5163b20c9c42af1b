-- The routing index for an in-process engine, in one statement (one snapshot): one row per
-- (grid, zone) pair of the cells with their ids as big-endian int8 bytes and the answer
-- route_many.sql gives there (community, street, district; the zone's workstation).
-- No cell at all: one row with NULL cells (still the version).
WITH pairs AS (
    SELECT rc.grid_code, rc.zone_code, string_agg(int8send(rc.cell), ''::bytea) AS cells
    FROM routing_cell rc
    GROUP BY rc.grid_code, rc.zone_code
)
SELECT s.version, current_database() AS db, s.max_level, p.cells,
       g.code AS grid_code, c.code AS community_code, st.code AS street_code,
       st.parent_code AS district_code, z.code AS zone_code,
       (SELECT min(w.code) FROM station w WHERE w.zone_code = z.code) AS station_code,
       (p.grid_code IS NULL OR g.code IS NOT NULL) AND (p.zone_code IS NULL OR z.code IS NOT NULL) AS usable
FROM routing_index_state s
LEFT JOIN pairs p ON true
LEFT JOIN area g ON g.valid_to IS NULL AND g.kind = 'grid' AND g.code = p.grid_code
LEFT JOIN area c ON c.valid_to IS NULL AND c.code = g.parent_code
LEFT JOIN area st ON st.valid_to IS NULL AND st.code = c.parent_code
LEFT JOIN area z ON z.valid_to IS NULL AND z.kind = 'zone' AND z.code = p.zone_code
