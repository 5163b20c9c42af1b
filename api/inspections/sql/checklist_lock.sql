-- the current checklists of these (department, category) pairs, locked for a new version
SELECT c.id, c.department_code AS department, c.category, c.version, c.case_category, c.items
FROM checklist c
JOIN unnest(CAST(:departments AS text[]), CAST(:categories AS text[])) AS k(d, cat)
  ON c.department_code = k.d AND c.category = k.cat
WHERE c.valid_to IS NULL
FOR UPDATE OF c
