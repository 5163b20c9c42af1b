INSERT INTO incident_event (incident_id, actor, kind, from_status, to_status, note, data)
VALUES (:incident_id, :actor, :kind, :from_status, :to_status, :note, CAST(:data AS jsonb))
