INSERT INTO incident_event (incident_id, at, actor, kind, from_status, to_status, note, data)
VALUES (:incident_id, COALESCE(CAST(:at AS timestamptz), now()), :actor, :kind, :from_status, :to_status,
        :note, CAST(:data AS jsonb))
RETURNING id
