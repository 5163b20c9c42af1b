-- Departments of these codes, as a roster file compares them. Params: codes.
SELECT code, name, name_en FROM department WHERE code = ANY(CAST(:codes AS text[]))
