-- An officer's (or dispatcher's) position / status report for one unit in scope.
UPDATE unit u SET
    position = ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326),
    position_at = now(),
    status = coalesce(CAST(:status AS text), u.status)
WHERE u.code = :code
  AND (CAST(:unit AS text) IS NULL OR u.code = CAST(:unit AS text))
  AND (CAST(:scope AS text[]) IS NULL OR EXISTS (
        SELECT 1 FROM station st WHERE st.code = u.station_code
          AND area_lineage(st.zone_code) && CAST(:scope AS text[])))
RETURNING u.code, u.status, ST_X(u.position) AS lon, ST_Y(u.position) AS lat, u.position_at
