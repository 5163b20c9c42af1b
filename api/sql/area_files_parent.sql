-- The parent of an import, if it is a current area in the caller's edit reach.
-- Params: code, everywhere (bool), scope (text[]: the caller's granted areas).
SELECT a.code, a.kind, a.name, a.department_code, ST_AsBinary(a.geom) AS wkb
FROM area a
WHERE a.valid_to IS NULL AND a.code = :code
  AND (CAST(:everywhere AS boolean) OR area_lineage(a.code) && CAST(:scope AS text[]))
