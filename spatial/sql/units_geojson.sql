-- Units as GeoJSON: those in the caller's reach (unit_in_reach: everywhere, scope, unit).
-- Params: department, status (nullable), stale_s.
SELECT json_build_object(
    'type', 'FeatureCollection',
    'numberReturned', count(*),
    'features', coalesce(json_agg(json_build_object(
        'type', 'Feature', 'id', u.code,
        'geometry', ST_AsGeoJSON(u.position, 7)::json,
        'properties', json_build_object(
            'code', u.code, 'name', u.name, 'department', u.department_code,
            'station_code', u.station_code, 'patrol_zone_code', u.patrol_zone_code,
            'status', u.status, 'position_at', u.position_at, 'accuracy_m', u.position_accuracy_m,
            'stale', u.position_at IS NULL OR u.position_at < now() - make_interval(secs => CAST(:stale_s AS float8)))
    ) ORDER BY u.code), '[]'::json)
)
FROM unit u
WHERE (CAST(:department AS text) IS NULL OR u.department_code = CAST(:department AS text))
  AND (CAST(:status AS text) IS NULL OR u.status = CAST(:status AS text))
  AND unit_in_reach(u.station_code, u.code, CAST(:everywhere AS boolean), CAST(:scope AS text[]),
                    CAST(:unit AS text))
