-- A department from a roster file, added or renamed.
INSERT INTO department (code, name, name_en) VALUES (:code, :name, :name_en)
ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_en = excluded.name_en
