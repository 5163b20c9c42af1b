-- The extent of every current district (what the maps open on): xmin, ymin, xmax, ymax or nulls.
SELECT ST_XMin(e) AS xmin, ST_YMin(e) AS ymin, ST_XMax(e) AS xmax, ST_YMax(e) AS ymax
FROM (SELECT ST_Extent(geom) AS e FROM area_current WHERE kind = 'district') x
