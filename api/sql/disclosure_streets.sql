-- The current streets with their district (the public disclosure's rows and choropleth), by code.
SELECT s.code, s.name, coalesce(s.name_en, s.name) AS name_en, s.parent_code AS district,
       d.name AS district_name, coalesce(d.name_en, d.name) AS district_name_en
FROM area s JOIN area d ON d.code = s.parent_code AND d.valid_to IS NULL AND d.kind = 'district'
WHERE s.kind = 'street' AND s.valid_to IS NULL
ORDER BY s.parent_code, s.code
