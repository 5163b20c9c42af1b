INSERT INTO survey_period (street_code, template_code, opens, closes, created_by)
VALUES (:street, :template, :opens, :closes, :actor)
RETURNING id
