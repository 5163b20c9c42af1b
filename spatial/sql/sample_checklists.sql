-- The default checklists (api/inspections/default_checklists.json, as a JSON document :doc) of
-- the departments and case categories present, where a department has none for that place
-- category yet: a database migrated before its catalogue was loaded gets them with the sample.
INSERT INTO checklist (department_code, category, version, case_category, items, changed_by)
SELECT c ->> 'department', c ->> 'category', 1, c ->> 'case_category', c -> 'items', 'sample'
FROM jsonb_array_elements(CAST(:doc AS jsonb) -> 'checklists') AS c
WHERE EXISTS (SELECT 1 FROM department d WHERE d.code = c ->> 'department')
  AND EXISTS (SELECT 1 FROM category k WHERE k.code = c ->> 'case_category')
  AND NOT EXISTS (SELECT 1 FROM checklist x WHERE x.department_code = c ->> 'department'
                                              AND x.category = c ->> 'category')
