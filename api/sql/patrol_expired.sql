-- Patrols whose track is older than the cutoff (ended, or last fixed, before it). Params: cutoff.
SELECT p.id, p.places_total IS NULL AS unsummarised
FROM patrol p
WHERE p.track IS NOT NULL AND coalesce(p.ended_at, p.last_at, p.started_at) < CAST(:cutoff AS timestamptz)
FOR UPDATE
