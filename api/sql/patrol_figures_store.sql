-- Keep each patrol's figures (they outlive the track). Params: ids, durations, totals,
-- visited (JSON array of code arrays), shares.
UPDATE patrol p
SET duration_s = f.duration_s, places_total = f.total,
    places_visited = ARRAY(SELECT jsonb_array_elements_text(f.visited)), area_share = f.share
FROM unnest(CAST(:ids AS bigint[]), CAST(:durations AS float8[]), CAST(:totals AS int[]),
            ARRAY(SELECT jsonb_array_elements(CAST(:visited AS jsonb))),
            CAST(:shares AS float8[])) AS f(id, duration_s, total, visited, share)
WHERE p.id = f.id
