-- A unit's GPS fix (WGS-84, checked by the caller) and optionally its status.
UPDATE unit u SET
    position = ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326),
    position_accuracy_m = CAST(:accuracy_m AS real),
    position_at = now(),
    status = coalesce(CAST(:status AS text), u.status)
WHERE u.code = :code
RETURNING u.code, u.status, ST_X(u.position) AS lon, ST_Y(u.position) AS lat,
          u.position_accuracy_m AS accuracy_m, u.position_at
