-- Which of these unit codes the caller may read (the rule of /api/units).
SELECT u.code FROM unit u
WHERE u.code = ANY(CAST(:codes AS text[]))
  AND unit_in_reach(u.station_code, u.code, CAST(:everywhere AS boolean), CAST(:scope AS text[]),
                    CAST(:unit AS text))
