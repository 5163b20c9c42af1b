UPDATE inspection_finding SET closed_by_check = :check_id WHERE incident_id = :incident_id
