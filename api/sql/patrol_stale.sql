-- Current grids under the caller's reach (a grid is in reach when it or an area above it is in
-- scope) and under an area, whose latest patrol ended (or last fixed) before :cutoff, or that were
-- never patrolled, with that moment. Params: everywhere, scope, area, cutoff.
WITH grids AS (
    SELECT g.code, g.name, g.parent_code AS community_code, area_lineage(g.code) AS above
    FROM area g WHERE g.kind = 'grid' AND g.valid_to IS NULL
)
SELECT g.code AS grid_code, g.name, g.community_code, last.at AS last_patrol_at
FROM grids g
LEFT JOIN LATERAL (
    SELECT max(coalesce(p.ended_at, p.last_at, p.started_at)) AS at FROM patrol p WHERE p.grid_code = g.code
) last ON true
WHERE (CAST(:everywhere AS boolean) OR g.above && CAST(:scope AS text[]))
  AND (CAST(:area AS text) IS NULL OR CAST(:area AS text) = ANY(g.above))
  AND (last.at IS NULL OR last.at < CAST(:cutoff AS timestamptz))
ORDER BY last.at NULLS FIRST, g.code
