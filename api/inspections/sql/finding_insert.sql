INSERT INTO inspection_finding (incident_id, check_id, place_code, place_category, department_code, zone_code, items)
VALUES (:incident_id, :check_id, :place_code, :place_category, :department, :zone, :items)
