-- Current children of these parents, every kind. Params: parents text[].
SELECT a.code, a.name, a.name_en, a.kind, a.parent_code, a.department_code, a.attributes, a.version,
       ST_AsBinary(a.geom) AS wkb
FROM area a
WHERE a.valid_to IS NULL AND a.parent_code = ANY(CAST(:parents AS text[]))
ORDER BY a.code
