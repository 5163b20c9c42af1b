-- Current areas at and below a root (all areas when root is NULL), for validation. Params: root.
SELECT a.code, a.name, a.name_en, a.kind, a.parent_code, a.department_code, a.attributes, a.version,
       ST_AsBinary(a.geom) AS wkb
FROM area a
WHERE a.valid_to IS NULL
  AND (CAST(:root AS text) IS NULL OR CAST(:root AS text) = ANY(area_lineage(a.code)))
ORDER BY a.code
