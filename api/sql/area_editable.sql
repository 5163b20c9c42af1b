-- Current areas the caller may edit: those whose parent lies in their reach (a root area only
-- everywhere). Params: codes text[], everywhere boolean, scope text[].
SELECT a.code, a.name, a.name_en, a.kind, a.parent_code, a.department_code, a.attributes, a.version,
       ST_AsBinary(a.geom) AS wkb
FROM area a
WHERE a.valid_to IS NULL AND a.code = ANY(CAST(:codes AS text[]))
  AND (CAST(:everywhere AS boolean) OR area_lineage(a.parent_code) && CAST(:scope AS text[]))
