-- A new patrol (no fix yet); NULL when the worker has one open already (patrol_one_open).
-- Params: grid, areas, worker, ts.
INSERT INTO patrol (grid_code, areas, worker, started_at)
VALUES (:grid, CAST(:areas AS text[]), :worker, :ts)
ON CONFLICT (worker) WHERE ended_at IS NULL DO NOTHING
RETURNING id, grid_code, worker, started_at
