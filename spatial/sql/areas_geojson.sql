-- Areas of one kind as a GeoJSON FeatureCollection: the one layer query (GET /api/areas,
-- the OGC API collections and items, file export). Params:
--   kind; xmin..ymax (nullable bbox); parent (nullable: direct children of it);
--   under (nullable: anywhere below it); department (nullable: patrol zones of one department);
--   code (nullable: that one area); as_of (nullable timestamptz: the rows valid then, else the
--   current ones); limit (nullable: all) and offset (paging, in code order); extent (bool:
--   the second column, bbox, is [xmin, ymin, xmax, ymax] of every matched area, else null);
--   scope (nullable text[]: the caller's areas; shown are those areas, everything under
--   them, their ancestors, and zones / patrol zones overlapping them).
-- numberMatched counts before paging, numberReturned after.
WITH matched AS (
    SELECT a.*
    FROM area a
    WHERE a.kind = :kind
      AND (CASE WHEN CAST(:as_of AS timestamptz) IS NULL THEN a.valid_to IS NULL
                ELSE a.valid_from <= CAST(:as_of AS timestamptz)
                     AND CAST(:as_of AS timestamptz) < coalesce(a.valid_to, 'infinity') END)
      AND (CAST(:xmin AS float8) IS NULL OR a.geom && ST_MakeEnvelope(
            CAST(:xmin AS float8), CAST(:ymin AS float8), CAST(:xmax AS float8), CAST(:ymax AS float8), 4326))
      AND (CAST(:parent AS text) IS NULL OR a.parent_code = CAST(:parent AS text))
      AND (CAST(:under AS text) IS NULL
           OR (a.code <> CAST(:under AS text) AND CAST(:under AS text) = ANY(area_lineage(a.parent_code))))
      AND (CAST(:department AS text) IS NULL OR a.department_code = CAST(:department AS text))
      AND (CAST(:code AS text) IS NULL OR a.code = CAST(:code AS text))
      AND area_in_map_scope(a.code, a.parent_code, a.kind, a.geom, CAST(:scope AS text[]))  -- migration 0010
),
page AS (
    SELECT * FROM matched ORDER BY code
    LIMIT CAST(:limit AS integer) OFFSET coalesce(CAST(:offset AS integer), 0)
)
SELECT json_build_object(
    'type', 'FeatureCollection',
    'numberMatched', (SELECT count(*) FROM matched),
    'numberReturned', (SELECT count(*) FROM page),
    'features', coalesce((SELECT json_agg(json_build_object(
        'type', 'Feature',
        'id', p.code,
        'geometry', ST_AsGeoJSON(p.geom, 7)::json,
        'properties', json_build_object(
            'code', p.code, 'name', p.name, 'name_en', p.name_en, 'kind', p.kind,
            'parent_code', p.parent_code, 'department', p.department_code,
            'version', p.version, 'valid_from', p.valid_from, 'valid_to', p.valid_to,
            'households', p.attributes -> 'households', 'attributes', p.attributes)
    ) ORDER BY p.code) FROM page p), '[]'::json)
) AS doc,
CASE WHEN CAST(:extent AS boolean) THEN (
    SELECT json_build_array(round(ST_XMin(e)::numeric, 7), round(ST_YMin(e)::numeric, 7),
                            round(ST_XMax(e)::numeric, 7), round(ST_YMax(e)::numeric, 7))
    FROM (SELECT ST_Extent(geom) AS e FROM matched) x WHERE e IS NOT NULL) END AS bbox
