SELECT code, name, department_code, status, position_at FROM unit WHERE code = :unit
