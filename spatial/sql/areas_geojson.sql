-- Current areas of one kind as a GeoJSON FeatureCollection, optionally in a bbox
-- and under a parent. Params: kind, xmin..ymax (nullable), parent (nullable),
-- scope (nullable text[]: the caller's areas; shown are those areas, everything under
-- them, their ancestors, and zones / patrol zones overlapping them).
SELECT json_build_object(
    'type', 'FeatureCollection',
    'numberReturned', count(*),
    'features', coalesce(json_agg(json_build_object(
        'type', 'Feature',
        'id', a.code,
        'geometry', ST_AsGeoJSON(a.geom, 7)::json,
        'properties', json_build_object(
            'code', a.code, 'name', a.name, 'name_en', a.name_en, 'kind', a.kind,
            'parent_code', a.parent_code, 'department', a.department_code,
            'version', a.version, 'valid_from', a.valid_from,
            'households', a.attributes -> 'households')
    ) ORDER BY a.code), '[]'::json)
)
FROM area a
WHERE a.valid_to IS NULL AND a.kind = :kind
  AND (CAST(:xmin AS float8) IS NULL OR a.geom && ST_MakeEnvelope(
        CAST(:xmin AS float8), CAST(:ymin AS float8), CAST(:xmax AS float8), CAST(:ymax AS float8), 4326))
  AND (CAST(:parent AS text) IS NULL OR a.parent_code = CAST(:parent AS text))
  AND (CAST(:department AS text) IS NULL OR a.department_code = CAST(:department AS text))
  AND (CAST(:scope AS text[]) IS NULL
       OR area_lineage(a.code) && CAST(:scope AS text[])
       OR a.code IN (SELECT unnest(area_lineage(s)) FROM unnest(CAST(:scope AS text[])) AS s)
       OR (a.kind IN ('zone', 'patrol_zone') AND EXISTS (
              SELECT 1 FROM area s WHERE s.valid_to IS NULL AND s.code = ANY(CAST(:scope AS text[]))
                AND s.geom && a.geom AND ST_Relate(s.geom, a.geom, '2********'))))
