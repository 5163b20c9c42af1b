-- Tell each district desk, once, that the official holiday data runs out: a desk notification
-- about no case (kind calendar_data_ending). Once per :data_end and :phase ("ending": within the
-- warning days; "ended": deadlines are provisional now): nothing if that one was written before.
INSERT INTO desk_notification (at, incident_id, area_code, areas, kind, data)
SELECT CAST(:at AS timestamptz), NULL, a.code, ARRAY[a.code], 'calendar_data_ending', CAST(:data AS jsonb)
FROM area a
WHERE a.kind = 'district' AND a.valid_to IS NULL
  AND NOT EXISTS (
        SELECT 1 FROM desk_notification n
        WHERE n.area_code = a.code AND n.kind = 'calendar_data_ending' AND n.incident_id IS NULL
          AND n.data->>'data_end' IS NOT DISTINCT FROM CAST(:data_end AS text)
          AND n.data->>'phase' = CAST(:phase AS text))
RETURNING area_code
