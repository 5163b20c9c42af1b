-- A current grid and the areas above it (its lineage), for a patrol's start. Params: grid.
SELECT a.code, area_lineage(a.code) AS areas
FROM area a WHERE a.code = CAST(:grid AS text) AND a.kind = 'grid' AND a.valid_to IS NULL
