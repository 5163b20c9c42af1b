-- The latest department call of a case.
SELECT d.department_code, dep.name AS department_name, dep.name_en AS department_name_en, d.called_by,
       d.called_at, d.answer_due_at, d.answer_due_provisional, d.answered_at, d.answered_by,
       d.overdue_flagged_at IS NOT NULL AS answer_overdue
FROM department_call d JOIN department dep ON dep.code = d.department_code
WHERE d.incident_id = :incident_id
ORDER BY d.called_at DESC, d.id DESC
LIMIT 1
