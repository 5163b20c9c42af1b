-- a new version after the highest one of its department and category
INSERT INTO checklist (department_code, category, version, case_category, items, valid_from, changed_by)
SELECT :department, :category,
       COALESCE((SELECT max(version) FROM checklist WHERE department_code = :department AND category = :category), 0) + 1,
       :case_category, CAST(:items AS jsonb), :ts, :actor
RETURNING version
