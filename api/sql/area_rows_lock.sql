-- Lock the current rows of these codes (before their versions are compared). Params: codes text[].
SELECT id, code, version FROM area
WHERE valid_to IS NULL AND code = ANY(CAST(:codes AS text[]))
ORDER BY code
FOR UPDATE
