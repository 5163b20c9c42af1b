UPDATE survey_period SET closed_at = now() WHERE id = :id AND closed_at IS NULL
