-- Write routing cells. Params: cells bigint[], grids text[], zones text[], clearances real[]
INSERT INTO routing_cell (cell, grid_code, zone_code, clearance_m)
SELECT * FROM unnest(CAST(:cells AS bigint[]), CAST(:grids AS text[]), CAST(:zones AS text[]),
                     CAST(:clearances AS real[]))
