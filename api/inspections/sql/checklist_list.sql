-- checklists: the current ones (or every version with :all), optionally of one department / category
SELECT id, department_code AS department, category, version, case_category, items, valid_from, valid_to,
       changed_by
FROM checklist
WHERE (CAST(:all AS boolean) OR valid_to IS NULL)
  AND (CAST(:department AS text) IS NULL OR department_code = :department)
  AND (CAST(:category AS text) IS NULL OR category = :category)
ORDER BY department_code, category, version
