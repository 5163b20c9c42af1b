-- One vector tile of heatmap hexagons already counted (cells, counts and GeoJSON outlines in
-- matching arrays).
WITH bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS env3857),
tile AS MATERIALIZED (   -- each hexagon clipped once (inlined, the IS NOT NULL test would clip it twice)
    SELECT u.cell, u.n AS count,
           ST_AsMVTGeom(ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON(u.g), 4326), 3857), b.env3857, 4096, 64, true)
               AS geom
    FROM unnest(CAST(:cells AS text[]), CAST(:counts AS integer[]), CAST(:outlines AS text[])) AS u(cell, n, g),
         bounds b
)
SELECT ST_AsMVT(tile, 'hexagons', 4096, 'geom') FROM tile WHERE geom IS NOT NULL
