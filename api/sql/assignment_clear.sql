-- Clear a case's active assignments (all, or one unit's) with the reason; the units
-- become available again unless another active assignment keeps them busy.
WITH cleared AS (
    UPDATE assignment SET cleared_at = :at, cleared_reason = :reason
    WHERE incident_id = :incident_id AND cleared_at IS NULL
      AND (CAST(:unit_code AS text) IS NULL OR unit_code = CAST(:unit_code AS text))
    RETURNING unit_code
), freed AS (
    UPDATE unit u SET status = 'available'
    WHERE u.code IN (SELECT unit_code FROM cleared) AND u.status = 'busy'
      AND NOT EXISTS (SELECT 1 FROM assignment a WHERE a.unit_code = u.code AND a.cleared_at IS NULL
                      AND a.incident_id <> :incident_id)
    RETURNING u.code
)
SELECT (SELECT array_agg(unit_code) FROM cleared) AS cleared,
       (SELECT count(*) FROM assignment a WHERE a.incident_id = :incident_id AND a.cleared_at IS NULL
          AND a.unit_code NOT IN (SELECT unit_code FROM cleared)) AS still_active
