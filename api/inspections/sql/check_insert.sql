INSERT INTO inspection_check (visit_id, department_code, checklist_id, answers, failed, findings, checked_by,
                              checked_at)
VALUES (:visit_id, :department, :checklist_id, CAST(:answers AS jsonb), :failed, :findings, :actor, :at)
RETURNING id
