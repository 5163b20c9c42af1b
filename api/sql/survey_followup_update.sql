UPDATE survey_followup
SET status = coalesce(:status, status), progress = coalesce(:progress, progress), updated_by = :actor, updated_at = now()
WHERE id = :id
