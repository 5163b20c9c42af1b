-- Tell each community's desk (and the desks above it) of its grids patrolled before but not since
-- :cutoff, once per stale period: no notice when the community had one since :cutoff. Grids never
-- patrolled are left to the list (GET /api/patrols/stale): a district not patrolling yet is not
-- told every community at once. Params: cutoff, now, days.
WITH last AS (
    SELECT p.grid_code, max(coalesce(p.ended_at, p.last_at, p.started_at)) AS at FROM patrol p GROUP BY p.grid_code
), stale AS (
    SELECT g.parent_code AS community, array_agg(g.code ORDER BY g.code) AS grids
    FROM last JOIN area g ON g.code = last.grid_code AND g.valid_to IS NULL AND g.kind = 'grid'
    WHERE last.at < CAST(:cutoff AS timestamptz) AND g.parent_code IS NOT NULL
    GROUP BY g.parent_code
)
INSERT INTO desk_notification (at, incident_id, area_code, areas, kind, data)
SELECT CAST(:now AS timestamptz), NULL, s.community, area_lineage(s.community), 'patrol_stale',
       jsonb_build_object('grids', s.grids, 'days', CAST(:days AS int))
FROM stale s
WHERE NOT EXISTS (SELECT 1 FROM desk_notification n WHERE n.kind = 'patrol_stale' AND n.area_code = s.community
                    AND n.at >= CAST(:cutoff AS timestamptz))
RETURNING area_code
