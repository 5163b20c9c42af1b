-- The worker's open patrol (at most one). Params: worker.
SELECT id FROM patrol WHERE worker = :worker AND ended_at IS NULL
