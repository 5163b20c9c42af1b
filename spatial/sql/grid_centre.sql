-- A grid's name and a point well inside it (where the report page puts the pin when the
-- phone will not say where it is).
SELECT code, name, ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat
FROM area_current WHERE kind = 'grid' AND code = :code
