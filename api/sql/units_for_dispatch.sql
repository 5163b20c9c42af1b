-- The units a desk may send (those it may read), with their status and department.
SELECT u.code, u.name, u.department_code, u.status
FROM unit u
WHERE u.code = ANY(CAST(:codes AS text[]))
  AND unit_in_reach(u.station_code, u.code, CAST(:everywhere AS boolean), CAST(:scope AS text[]),
                    CAST(:unit AS text))
