-- Current areas of one kind under an area (the area itself too when include_self), with
-- what an import compares: names, parent, department, attributes, version, geometry (WKB).
-- Params: kind, under, include_self (bool).
SELECT a.code, a.name, a.name_en, a.kind, a.parent_code, a.department_code, a.attributes, a.version,
       ST_AsBinary(a.geom) AS wkb
FROM area a
WHERE a.valid_to IS NULL AND a.kind = :kind
  AND ((CAST(:include_self AS boolean) AND a.code = :under)
       OR (a.code <> :under AND CAST(:under AS text) = ANY(area_lineage(a.code))))
ORDER BY a.code
