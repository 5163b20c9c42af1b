-- The sample's departments (a code present already is kept as it is).
INSERT INTO department (code, name, name_en) VALUES (:code, :name, :name_en)
ON CONFLICT (code) DO NOTHING
