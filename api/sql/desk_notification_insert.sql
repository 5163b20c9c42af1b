INSERT INTO desk_notification (at, incident_id, area_code, areas, kind, data)
VALUES (:at, :incident_id, (CAST(:areas AS text[]))[1], CAST(:areas AS text[]), :kind, CAST(:data AS jsonb))
