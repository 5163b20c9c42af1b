-- The current areas of one kind under a root (the monthly report's map), outlines to five decimals.
SELECT a.code, a.name, coalesce(a.name_en, a.name) AS name_en,
       ST_AsGeoJSON(ST_SimplifyPreserveTopology(a.geom, 0.0002), 5)::json AS geometry
FROM area a
WHERE a.valid_to IS NULL AND a.kind = :kind AND CAST(:root AS text) = ANY(area_lineage(a.code))
ORDER BY a.code
