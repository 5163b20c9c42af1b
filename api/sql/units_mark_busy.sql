UPDATE unit SET status = 'busy' WHERE code = ANY(CAST(:codes AS text[])) AND status = 'available'
