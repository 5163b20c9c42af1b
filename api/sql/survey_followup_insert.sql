INSERT INTO survey_followup (period_id, indicator, owner, measures, deadline, created_by, updated_by)
VALUES (:period, :indicator, :owner, :measures, :deadline, :actor, :actor)
RETURNING id
