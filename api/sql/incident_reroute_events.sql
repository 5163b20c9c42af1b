-- The case-file event of each re-routed incident. Params: ids bigint[], data text[] (json), actor, note.
INSERT INTO incident_event (incident_id, actor, kind, note, data)
SELECT n.id, :actor, 'rerouted', :note, CAST(n.data AS jsonb)
FROM unnest(CAST(:ids AS bigint[]), CAST(:data AS text[])) AS n(id, data)
