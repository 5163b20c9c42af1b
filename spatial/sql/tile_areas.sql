-- One Mapbox Vector Tile of current areas of one kind (ST_TileEnvelope -> ST_AsMVTGeom ->
-- ST_AsMVT in one statement), within the caller's map scope. On the Web Mercator outline
-- (area.geom_3857, migration 0018): nothing is projected per tile or per feature.
-- Params: z, x, y, kind, layer (the MVT layer name), department (nullable), visible (nullable:
-- everything; else the codes the scope shows, from areas_visible.sql).
WITH bounds AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS envelope,
           ST_TileEnvelope(:z, :x, :y, margin => 64.0 / 4096) AS buffered
),
tile AS MATERIALIZED (   -- each outline clipped once: inlined, the IS NOT NULL test below would clip it twice
    SELECT a.code, a.name, coalesce(a.name_en, '') AS name_en, a.kind, coalesce(a.parent_code, '') AS parent_code,
           coalesce(a.department_code, '') AS department, a.version,
           ST_AsMVTGeom(a.geom_3857, b.envelope, 4096, 64, true) AS geom
    FROM area a, bounds b
    WHERE a.valid_to IS NULL AND a.kind = :kind AND a.geom_3857 && b.buffered
      AND (CAST(:department AS text) IS NULL OR a.department_code = CAST(:department AS text))
      AND (CAST(:visible AS text[]) IS NULL OR a.code = ANY(CAST(:visible AS text[])))
)
SELECT ST_AsMVT(tile, :layer, 4096, 'geom') FROM tile WHERE geom IS NOT NULL
