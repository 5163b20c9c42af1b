-- 街道吹哨、部门报到: call a district department to a case, with an answer deadline.
INSERT INTO department_call (incident_id, department_code, called_by, called_at, answer_due_at,
                             answer_due_provisional)
VALUES (:incident_id, :department, :actor, :at, :answer_due_at, :answer_due_provisional)
RETURNING id
