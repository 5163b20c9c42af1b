-- One layer of the sample's areas (arrays of its columns), valid since the history's ground_since.
INSERT INTO area (code, name, name_en, kind, parent_code, department_code, attributes, geom, changed_by, valid_from)
SELECT x.code, x.name, x.name_en, :kind, x.parent_code, x.department_code, CAST(x.attributes AS jsonb),
       ST_SetSRID(CAST(x.wkb AS geometry), 4326), 'sample', CAST(:since AS timestamptz)
FROM unnest(CAST(:code AS text[]), CAST(:name AS text[]), CAST(:name_en AS text[]),
            CAST(:parent_code AS text[]), CAST(:department_code AS text[]),
            CAST(:attributes AS text[]), CAST(:wkb AS text[]))
     AS x(code, name, name_en, parent_code, department_code, attributes, wkb)
-- any version: an area edited or retired since is not brought back
WHERE NOT EXISTS (SELECT 1 FROM area a WHERE a.code = x.code)
