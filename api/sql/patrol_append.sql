-- Append fixes (in time order) to a patrol's track, adding their geodesic length (worked out by the
-- service as it checks them). Params: id, lons, lats, ats (epoch seconds), accuracies, added_m.
WITH batch AS (
    SELECT ST_SetSRID(ST_MakeLine(array_agg(ST_MakePointM(lon, lat, at) ORDER BY i)), 4326) AS line,
           array_agg(acc ORDER BY i) AS accs, count(*) AS n, max(at) AS last_at, min(at) AS first_at
    FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[]), CAST(:ats AS float8[]),
                CAST(:accuracies AS real[])) WITH ORDINALITY AS f(lon, lat, at, acc, i)
)
UPDATE patrol p
SET track = CASE WHEN p.track IS NULL THEN b.line ELSE ST_MakeLine(p.track, b.line) END,
    accuracies = p.accuracies || b.accs,
    fixes = p.fixes + b.n,
    length_m = coalesce(p.length_m, 0) + CAST(:added_m AS float8),
    first_at = coalesce(p.first_at, to_timestamp(b.first_at)),
    last_at = to_timestamp(b.last_at)
FROM batch b
WHERE p.id = :id
RETURNING p.id, p.fixes, p.last_at
