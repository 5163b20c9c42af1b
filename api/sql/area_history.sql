-- Every version of one area, oldest first, as a GeoJSON FeatureCollection; in the caller's map
-- scope (judged by the area's parent, which outlives a retired area). Params: code, scope.
SELECT json_build_object(
    'type', 'FeatureCollection',
    'numberReturned', count(*),
    'features', coalesce(json_agg(json_build_object(
        'type', 'Feature', 'id', a.code || '@' || a.version,
        'geometry', ST_AsGeoJSON(a.geom, 7)::json,
        'properties', json_build_object(
            'code', a.code, 'name', a.name, 'name_en', a.name_en, 'kind', a.kind,
            'parent_code', a.parent_code, 'department', a.department_code, 'version', a.version,
            'valid_from', a.valid_from, 'valid_to', a.valid_to, 'changed_by', a.changed_by,
            'reason', a.reason, 'attributes', a.attributes)
    ) ORDER BY a.version), '[]'::json)
) AS doc
FROM area a
WHERE a.code = :code
  AND area_in_map_scope(a.code, a.parent_code, a.kind, a.geom, CAST(:scope AS text[]))
