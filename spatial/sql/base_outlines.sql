-- The offline base map (public: outlines and names only, never an incident): current areas of
-- the given kinds meeting a bbox, simplified to about half a pixel at the zoom asked, each with
-- a point inside it to hang its name on; and the linkage workstations when asked. Params:
--   kinds text[]; xmin..ymax (bbox, WGS-84); tolerance (degrees); stations (bool).
WITH found AS (
        SELECT array_position(CAST(:kinds AS text[]), a.kind) AS rank, a.code,
               json_build_object(
                   'type', 'Feature', 'id', a.code,
                   'geometry', ST_AsGeoJSON(ST_SimplifyPreserveTopology(a.geom, CAST(:tolerance AS float8)), 6)::json,
                   'properties', json_build_object(
                       'code', a.code, 'kind', a.kind, 'name', a.name, 'name_en', a.name_en,
                       'label', json_build_array(round(ST_X(ST_PointOnSurface(a.geom))::numeric, 6),
                                                 round(ST_Y(ST_PointOnSurface(a.geom))::numeric, 6)))) AS f
        FROM area_current a
        WHERE a.kind = ANY(CAST(:kinds AS text[]))
          AND a.geom && ST_MakeEnvelope(CAST(:xmin AS float8), CAST(:ymin AS float8),
                                        CAST(:xmax AS float8), CAST(:ymax AS float8), 4326)
        UNION ALL
        SELECT 99, s.code, json_build_object(
                   'type', 'Feature', 'id', s.code,
                   'geometry', ST_AsGeoJSON(s.geom, 6)::json,
                   'properties', json_build_object('code', s.code, 'kind', 'station', 'name', s.name))
        FROM station s
        WHERE CAST(:stations AS boolean)
          AND s.geom && ST_MakeEnvelope(CAST(:xmin AS float8), CAST(:ymin AS float8),
                                        CAST(:xmax AS float8), CAST(:ymax AS float8), 4326)
)
SELECT json_build_object(
    'type', 'FeatureCollection',
    'numberReturned', (SELECT count(*) FROM found),
    'features', coalesce((SELECT json_agg(f ORDER BY rank, code) FROM found), '[]'::json)
) AS doc
