-- One answer per phone per period: a repeat replaces the earlier one in one statement.
INSERT INTO survey_answer AS a (period_id, device, scores, poster, answered_on)
VALUES (:period, :device, CAST(:scores AS jsonb), :poster, CAST(:today AS date))
ON CONFLICT (period_id, device) DO UPDATE
SET scores = EXCLUDED.scores, poster = EXCLUDED.poster, answered_on = EXCLUDED.answered_on, answers = a.answers + 1
RETURNING answers > 1 AS replaced
