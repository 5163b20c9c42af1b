-- the current checklists of these departments for a place category
SELECT id, department_code AS department, version, case_category, items
FROM checklist
WHERE valid_to IS NULL AND category = :category AND department_code = ANY(CAST(:departments AS text[]))
ORDER BY department_code
