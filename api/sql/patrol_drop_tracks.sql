-- Drop the geometry of these patrols (the summary stays), ending any still open; the reports'
-- link keeps its point's time. Params: ids, ts.
UPDATE patrol SET track = NULL, accuracies = '{}', track_dropped_at = CAST(:ts AS timestamptz),
                  ended_at = coalesce(ended_at, greatest(last_at, started_at))
WHERE id = ANY(CAST(:ids AS bigint[]))
RETURNING id
