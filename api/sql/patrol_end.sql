-- End a patrol. Params: id, ts.
UPDATE patrol SET ended_at = greatest(CAST(:ts AS timestamptz), started_at, coalesce(last_at, started_at))
WHERE id = :id AND ended_at IS NULL
RETURNING id
