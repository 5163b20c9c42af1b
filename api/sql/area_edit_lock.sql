-- Serialise edits of the partitions under these parents (one transaction at a time), in a
-- fixed order so two edits cannot deadlock. Params: parents text[].
SELECT count(pg_advisory_xact_lock(hashtextextended('area-edit:' || s.p, 0)))
FROM (SELECT DISTINCT p FROM unnest(CAST(:parents AS text[])) AS p ORDER BY p) s
