-- This phone's answer in a period, if any.
SELECT scores, answered_on FROM survey_answer WHERE period_id = :period AND device = :device
