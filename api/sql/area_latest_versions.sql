-- The latest version of each code, whether it is current (a retired code has none current),
-- and whether the caller may edit it (its parent in reach). Params: codes text[], everywhere, scope.
SELECT DISTINCT ON (code) code, version, parent_code, valid_to IS NULL AS current,
       (CAST(:everywhere AS boolean) OR area_lineage(parent_code) && CAST(:scope AS text[])) AS editable
FROM area WHERE code = ANY(CAST(:codes AS text[]))
ORDER BY code, version DESC
