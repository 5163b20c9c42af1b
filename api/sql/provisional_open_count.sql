-- How many open cases and unanswered department calls have a provisional deadline now.
SELECT (SELECT count(*) FROM incident i
        WHERE i.due_provisional AND i.status NOT IN ('closed', 'void', 'duplicate', 'not_responsible')) AS cases,
       (SELECT count(*) FROM department_call d JOIN incident i ON i.id = d.incident_id
        WHERE d.answer_due_provisional AND d.answered_at IS NULL
          AND i.status NOT IN ('closed', 'void', 'duplicate', 'not_responsible')) AS calls
