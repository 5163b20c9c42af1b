-- After a rebuild: new version for in-process copies, levels the SQL lookup probes.
UPDATE routing_index_state
SET version = nextval('routing_index_version'), changed_at = clock_timestamp(), built_at = clock_timestamp(),
    min_level = CAST(:min_level AS smallint), max_level = CAST(:max_level AS smallint)
