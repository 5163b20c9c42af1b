-- Linkage workstations as GeoJSON. Params: scope (nullable text[]).
SELECT json_build_object(
    'type', 'FeatureCollection',
    'numberReturned', count(*),
    'features', coalesce(json_agg(json_build_object(
        'type', 'Feature', 'id', s.code,
        'geometry', ST_AsGeoJSON(s.geom, 7)::json,
        'properties', json_build_object('code', s.code, 'name', s.name, 'zone_code', s.zone_code,
                                        'departments', s.departments)
    ) ORDER BY s.code), '[]'::json)
)
FROM station s
WHERE CAST(:scope AS text[]) IS NULL OR area_lineage(s.zone_code) && CAST(:scope AS text[])
