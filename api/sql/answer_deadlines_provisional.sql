-- Unanswered department calls of open cases whose answer deadline is provisional, locked for the
-- recompute (the answer is due department_answer_deadline after the call: the district's own, else
-- the instance's, api.workflow.deadlines).
SELECT d.id, d.incident_id, i.status, d.called_at, d.answer_due_at, d.overdue_flagged_at, i.district_code
FROM department_call d JOIN incident i ON i.id = d.incident_id
WHERE d.answer_due_provisional AND d.answered_at IS NULL
  AND i.status NOT IN ('closed', 'void', 'duplicate', 'not_responsible')
ORDER BY d.id
FOR UPDATE OF d
