-- Units a NOTIFY announced, with the areas their reach rule looks at (unit_in_reach: the
-- lineage of their workstation's zone).
SELECT u.code, u.name, u.department_code AS department, u.status, u.station_code,
       ST_X(u.position) AS lon, ST_Y(u.position) AS lat, u.position_at,
       CASE WHEN st.zone_code IS NULL THEN '{}'::text[] ELSE area_lineage(st.zone_code) END AS areas
FROM unit u
LEFT JOIN station st ON st.code = u.station_code
WHERE u.code = ANY(CAST(:codes AS text[]))
