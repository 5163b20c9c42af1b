-- Set a district's own settings (a NULL column falls back to the instance's).
INSERT INTO district_settings (district_code, working_day_start, working_day_end, department_answer_deadline,
                               updated_at, updated_by)
VALUES (:code, CAST(:start AS time), CAST(:end AS time), :answer, now(), :actor)
ON CONFLICT (district_code) DO UPDATE
SET working_day_start = EXCLUDED.working_day_start, working_day_end = EXCLUDED.working_day_end,
    department_answer_deadline = EXCLUDED.department_answer_deadline, updated_at = now(),
    updated_by = EXCLUDED.updated_by
RETURNING district_code, working_day_start, working_day_end, department_answer_deadline, updated_at, updated_by
