-- One Mapbox Vector Tile of the current places in the caller's reach (read_places): code, name,
-- category, risk level, grid, version. Never a contact nor a person's name.
-- Params: z, x, y, everywhere, scope, categories (nullable).
WITH bounds AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS envelope,
           ST_TileEnvelope(:z, :x, :y, margin => 64.0 / 4096) AS buffered
),
tile AS (
    SELECT p.code, p.name, p.category, p.risk_level, p.grid_code, p.version,
           ST_AsMVTGeom(ST_Transform(p.location, 3857), b.envelope, 4096, 64, true) AS geom
    FROM place p, bounds b
    WHERE p.valid_to IS NULL AND ST_Transform(p.location, 3857) && b.buffered
      AND (CAST(:everywhere AS boolean) OR p.areas && CAST(:scope AS text[]))
      AND (CAST(:categories AS text[]) IS NULL OR p.category = ANY(CAST(:categories AS text[])))
)
SELECT ST_AsMVT(tile, 'places', 4096, 'geom') FROM tile WHERE geom IS NOT NULL
