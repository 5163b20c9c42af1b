SELECT at, actor, kind, from_status, to_status, note, data
FROM incident_event WHERE incident_id = :incident_id ORDER BY at, id
