-- Lock the current children of these parents (the partitions an edit rewrites). Params: parents text[].
SELECT id FROM area
WHERE valid_to IS NULL AND parent_code = ANY(CAST(:parents AS text[]))
ORDER BY code
FOR UPDATE
