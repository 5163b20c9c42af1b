SELECT c.code, c.name, c.name_en, c.departments, c.default_tier, c.deadline_hours, c.deadlines, c.five_matters
FROM category c ORDER BY c.code
