-- Current areas of these codes: their kind and (patrol zones) department. Params: codes.
SELECT code, kind, department_code FROM area WHERE code = ANY(CAST(:codes AS text[])) AND valid_to IS NULL
