-- Current grids and zones for the routing index, all or those touching an envelope.
-- Params: xmin, ymin, xmax, ymax (all NULL: everything)
SELECT a.code, a.kind, ST_AsBinary(a.geom) AS wkb
FROM area a
WHERE a.valid_to IS NULL AND a.kind IN ('grid', 'zone')
  AND (CAST(:xmin AS float8) IS NULL
       OR a.geom && ST_MakeEnvelope(CAST(:xmin AS float8), CAST(:ymin AS float8),
                                    CAST(:xmax AS float8), CAST(:ymax AS float8), 4326))
ORDER BY a.code
