-- Units as GeoJSON. Params: department, status, unit (nullable), scope (nullable
-- text[]: units of workstations whose zone lies in these areas).
SELECT json_build_object(
    'type', 'FeatureCollection',
    'numberReturned', count(*),
    'features', coalesce(json_agg(json_build_object(
        'type', 'Feature', 'id', u.code,
        'geometry', ST_AsGeoJSON(u.position, 7)::json,
        'properties', json_build_object(
            'code', u.code, 'name', u.name, 'department', u.department_code,
            'station_code', u.station_code, 'patrol_zone_code', u.patrol_zone_code,
            'status', u.status, 'position_at', u.position_at,
            'stale', u.position_at IS NULL OR u.position_at < now() - make_interval(secs => CAST(:stale_s AS float8)))
    ) ORDER BY u.code), '[]'::json)
)
FROM unit u
WHERE (CAST(:department AS text) IS NULL OR u.department_code = CAST(:department AS text))
  AND (CAST(:status AS text) IS NULL OR u.status = CAST(:status AS text))
  AND (CAST(:unit AS text) IS NULL OR u.code = CAST(:unit AS text))
  AND (CAST(:scope AS text[]) IS NULL OR EXISTS (
        SELECT 1 FROM station st WHERE st.code = u.station_code
          AND area_lineage(st.zone_code) && CAST(:scope AS text[])))
