-- Every district's own settings, for the rounds that count deadlines of many districts at once.
SELECT district_code, working_day_start, working_day_end, department_answer_deadline, updated_at, updated_by
FROM district_settings ORDER BY district_code
