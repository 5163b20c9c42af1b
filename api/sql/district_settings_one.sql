-- A district's own settings (NULL columns: the instance's); no row: all the instance's.
SELECT district_code, working_day_start, working_day_end, department_answer_deadline, updated_at, updated_by
FROM district_settings WHERE district_code = :code
