-- One survey template (dimensions and indicators as loaded), or none.
SELECT code, name, name_en, document FROM survey_template WHERE code = :code
