-- Categories of these codes, as a roster file compares them. Params: codes.
SELECT code, name, name_en, departments, default_tier, deadlines, five_matters
FROM category WHERE code = ANY(CAST(:codes AS text[]))
