-- Drop every routing cell under the given root cells (level :min_level) before rebuilding them.
-- Params: roots bigint[], min_level, xmin, ymin, xmax, ymax (the roots' envelope, for the GiST index)
DELETE FROM routing_cell rc
WHERE routing_cell_box(rc.cell) && ST_MakeEnvelope(CAST(:xmin AS float8), CAST(:ymin AS float8),
                                                 CAST(:xmax AS float8), CAST(:ymax AS float8), 4326)
  AND ((CAST(:min_level AS bigint) << 50)
       | ((((rc.cell >> 25) & 33554431) >> CAST((rc.cell >> 50) - CAST(:min_level AS int) AS int)) << 25)
       | ((rc.cell & 33554431) >> CAST((rc.cell >> 50) - CAST(:min_level AS int) AS int)))
      = ANY (CAST(:roots AS bigint[]))
