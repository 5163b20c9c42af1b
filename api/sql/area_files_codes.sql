-- What the codes of an import already name: kind and parent of the current row, and whether
-- the code only exists in history (retired). Params: codes (text[]).
SELECT code, bool_or(valid_to IS NULL) AS is_current,
       max(kind) FILTER (WHERE valid_to IS NULL) AS kind,
       max(parent_code) FILTER (WHERE valid_to IS NULL) AS parent_code
FROM area WHERE code = ANY(CAST(:codes AS text[]))
GROUP BY code
