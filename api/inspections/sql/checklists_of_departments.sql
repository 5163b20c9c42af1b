SELECT id FROM checklist WHERE valid_to IS NULL AND department_code = ANY(CAST(:departments AS text[])) LIMIT 1
