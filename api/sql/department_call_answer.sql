-- The called department reports in: who answered and when.
UPDATE department_call SET answered_at = :at, answered_by = :actor
WHERE incident_id = :incident_id AND answered_at IS NULL
RETURNING department_code, called_at, answer_due_at
