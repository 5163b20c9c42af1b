INSERT INTO incident_attachment (incident_id, sha256, added_by)
VALUES (:incident_id, :sha256, :actor)
ON CONFLICT (incident_id, sha256) DO NOTHING
