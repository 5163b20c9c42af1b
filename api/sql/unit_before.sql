-- A unit as it was before a position report, if the caller may report for it (locked).
SELECT u.code, u.status, ST_X(u.position) AS lon, ST_Y(u.position) AS lat,
       u.position_accuracy_m AS accuracy_m, u.position_at
FROM unit u
WHERE u.code = :code
  AND unit_in_reach(u.station_code, u.code, CAST(:everywhere AS boolean), CAST(:scope AS text[]),
                    CAST(:unit AS text))
FOR UPDATE
