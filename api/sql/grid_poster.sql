-- What a grid's poster names: the grid, its community and street, and its attributes (the
-- roster, "1+2+3+N": leader, full_time and part_time workers, when the grid manager keeps one).
SELECT g.code, g.name, c.name AS community, s.name AS street, g.attributes
FROM area_current g
LEFT JOIN area_current c ON c.code = g.parent_code
LEFT JOIN area_current s ON s.code = c.parent_code
WHERE g.kind = 'grid' AND (g.code = :code OR g.parent_code = :code OR c.parent_code = :code
                           OR s.parent_code = :code)
  AND (NOT CAST(:only AS boolean) OR g.code = :code)  -- one grid's poster, not its area's
  AND area_in_map_scope(g.code, g.parent_code, g.kind, g.geom, CAST(:scope AS text[]))  -- the caller's map
ORDER BY g.code
