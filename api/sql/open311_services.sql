-- Categories as GeoReport v2 services, with their departments' names in order (one, or all when :code is null).
SELECT c.code, c.name, c.name_en, c.five_matters,
       coalesce((SELECT array_agg(d.name ORDER BY array_position(c.departments, d.code))
                 FROM department d WHERE d.code = ANY(c.departments)), '{}') AS department_names
FROM category c
WHERE CAST(:code AS text) IS NULL OR c.code = :code
ORDER BY c.code
