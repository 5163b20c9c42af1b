-- the department and incident category codes (checklists name them)
SELECT (SELECT array_agg(code) FROM department) AS departments, (SELECT array_agg(code) FROM category) AS categories
