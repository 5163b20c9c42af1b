-- The current rows of these codes (read after area_rows_lock: this statement sees edits
-- committed while it waited). Params: codes text[].
SELECT id, code, name, name_en, kind, parent_code, department_code, attributes, version, ST_AsBinary(geom) AS wkb
FROM area
WHERE valid_to IS NULL AND code = ANY(CAST(:codes AS text[]))
ORDER BY code
