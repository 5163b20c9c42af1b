-- a department's findings at a place whose case is still open
SELECT f.incident_id FROM inspection_finding f JOIN incident i ON i.id = f.incident_id
WHERE f.place_code = :place_code AND f.department_code = :department
  AND i.status NOT IN ('closed', 'void', 'duplicate', 'not_responsible', 'suspended')  -- a suspended case waits for its desk
ORDER BY f.incident_id
