-- The stations and units rated, with the areas each lies in (the reach check) and its district.
-- A station lies in its zone and the areas above it; a unit in its home station's and its
-- patrol zone's (and the areas above them): a street's leader sees the units based at the
-- street's workstations. Filters (NULL = all): :kind, :code, :district.
WITH RECURSIVE homes AS (
    SELECT 'station' AS kind, s.code, s.name, s.zone_code AS home, NULL::text AS department_code, s.zone_code
    FROM station s
    UNION ALL
    SELECT 'unit', u.code, u.name, h.home, u.department_code, s.zone_code
    FROM unit u
    LEFT JOIN station s ON s.code = u.station_code
    CROSS JOIN LATERAL (VALUES (s.zone_code), (u.patrol_zone_code)) h (home)
    WHERE h.home IS NOT NULL
), up AS (
    SELECT h.kind, h.code, a.code AS area, a.parent_code, a.kind AS area_kind
    FROM homes h JOIN area a ON a.code = h.home AND a.valid_to IS NULL
    UNION
    SELECT up.kind, up.code, p.code, p.parent_code, p.kind
    FROM up JOIN area p ON p.code = up.parent_code AND p.valid_to IS NULL
), subjects AS (
    SELECT h.kind, h.code, min(h.name) AS name, min(h.zone_code) AS zone_code,
           min(h.department_code) AS department_code,
           array_agg(DISTINCT up.area ORDER BY up.area) AS areas,
           min(up.area) FILTER (WHERE up.area_kind = 'district') AS district_code
    FROM homes h JOIN up ON up.kind = h.kind AND up.code = h.code
    GROUP BY h.kind, h.code
)
SELECT * FROM subjects
WHERE (CAST(:kind AS text) IS NULL OR kind = CAST(:kind AS text))
  AND (CAST(:code AS text) IS NULL OR code = CAST(:code AS text))
  AND (CAST(:district AS text) IS NULL OR district_code = CAST(:district AS text))
ORDER BY kind, code
