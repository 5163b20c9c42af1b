-- A template is stored once and never changed (a new version gets a code of its own).
INSERT INTO survey_template (code, name, name_en, document)
VALUES (:code, :name, :name_en, CAST(:document AS jsonb))
ON CONFLICT (code) DO NOTHING
