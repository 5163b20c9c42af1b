SELECT sha256 FROM incident_attachment WHERE incident_id = :incident_id ORDER BY added_at, sha256
