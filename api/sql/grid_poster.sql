-- What a grid's poster names: the grid, its community and street, its roster if any.
SELECT g.code, g.name, c.name AS community, s.name AS street, g.attributes -> 'roster' AS roster
FROM area_current g
LEFT JOIN area_current c ON c.code = g.parent_code
LEFT JOIN area_current s ON s.code = c.parent_code
WHERE g.kind = 'grid' AND (g.code = :code OR g.parent_code = :code OR c.parent_code = :code
                           OR s.parent_code = :code)
ORDER BY g.code
