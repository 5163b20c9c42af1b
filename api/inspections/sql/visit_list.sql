-- visits of plans in reach: of given plans, or one visit, or a unit's from a day on; with the
-- place (its current version, else its last) and the checks made
SELECT v.id, v.plan_id, p.day, v.seq, v.status, v.departments, v.overdue, v.recheck, v.arrived_at,
       v.arrived_distance_m, v.done_at, p.zone_code AS zone, p.areas AS plan_areas, p.team,
       pl.code AS place_code, pl.name AS place_name, pl.category AS place_category, pl.risk_level,
       pl.address, ST_X(pl.location) AS lon, ST_Y(pl.location) AS lat, pl.areas AS place_areas,
       pl.zone_code AS place_zone,
       COALESCE((SELECT jsonb_agg(jsonb_build_object(
                     'department', c.department_code, 'version', k.version, 'failed', c.failed,
                     'findings', c.findings, 'checked_by', c.checked_by, 'checked_at', c.checked_at,
                     'cases', COALESCE((SELECT jsonb_agg(f.incident_id) FROM inspection_finding f
                                        WHERE f.check_id = c.id), '[]'::jsonb))
                     ORDER BY c.department_code)
                 FROM inspection_check c JOIN checklist k ON k.id = c.checklist_id WHERE c.visit_id = v.id),
                '[]'::jsonb) AS checks,
       ARRAY(SELECT ph.sha256 FROM inspection_photo ph WHERE ph.visit_id = v.id ORDER BY ph.added_at) AS photos
FROM inspection_visit v
JOIN inspection_plan p ON p.id = v.plan_id
CROSS JOIN LATERAL (SELECT * FROM place x WHERE x.code = v.place_code ORDER BY x.version DESC LIMIT 1) pl
WHERE (CAST(:everywhere AS boolean) OR p.areas && CAST(:scope AS text[]) OR CAST(:unit AS text) = ANY(p.team))
  AND (CAST(:plan_ids AS bigint[]) IS NULL OR v.plan_id = ANY(CAST(:plan_ids AS bigint[])))
  AND (CAST(:visit_id AS bigint) IS NULL OR v.id = :visit_id)
  AND (CAST(:from_day AS date) IS NULL OR p.day >= :from_day)
  AND (CAST(:team_unit AS text) IS NULL OR CAST(:team_unit AS text) = ANY(p.team))
ORDER BY p.day, p.id, v.seq
LIMIT 500
