-- The extent of the current places in reach (NULLs when none).
SELECT ST_XMin(e) AS xmin, ST_YMin(e) AS ymin, ST_XMax(e) AS xmax, ST_YMax(e) AS ymax
FROM (SELECT ST_Extent(location) AS e FROM place
      WHERE valid_to IS NULL AND (CAST(:everywhere AS boolean) OR areas && CAST(:scope AS text[]))) x
