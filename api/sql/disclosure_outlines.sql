-- The current streets' outlines for the public choropleth: polygons only (no label point),
-- simplified to about 50 m and to five decimals.
SELECT s.code, s.name, coalesce(s.name_en, s.name) AS name_en,
       ST_AsGeoJSON(ST_SimplifyPreserveTopology(s.geom, 0.0005), 5)::json AS geometry
FROM area s JOIN area d ON d.code = s.parent_code AND d.valid_to IS NULL AND d.kind = 'district'
WHERE s.kind = 'street' AND s.valid_to IS NULL
ORDER BY s.code
