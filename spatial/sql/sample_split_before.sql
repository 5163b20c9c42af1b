-- A split in the sample's history, second half: version 1 of :from, the ground of both grids,
-- from :since until :at. Only right after the first half (:from at version 2 and nothing else).
INSERT INTO area (code, name, name_en, kind, parent_code, department_code, attributes, geom, version,
                  valid_from, valid_to, changed_by)
SELECT f.code, f.name, f.name_en, f.kind, f.parent_code, f.department_code, f.attributes,
       ST_Multi(ST_Union(f.geom, n.geom)), 1, CAST(:since AS timestamptz), CAST(:at AS timestamptz), 'sample'
FROM area f JOIN area n ON n.code = :new AND n.valid_to IS NULL
WHERE f.code = :from AND f.version = 2 AND f.valid_to IS NULL
  AND NOT EXISTS (SELECT 1 FROM area v WHERE v.code = :from AND v.version = 1)
