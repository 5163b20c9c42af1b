SELECT max(at) AS at FROM incident_event WHERE incident_id = :incident_id AND kind = 'suspend'
