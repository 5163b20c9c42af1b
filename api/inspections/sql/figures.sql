-- a zone's (or every zone in reach's) inspection figures between two days (the visits' plan days)
WITH v AS (
    SELECT v.id, (SELECT count(*) FROM inspection_check c WHERE c.visit_id = v.id) AS checks
    FROM inspection_visit v JOIN inspection_plan p ON p.id = v.plan_id
    WHERE v.status = 'done' AND p.day BETWEEN :from_day AND :to_day
      AND (CAST(:zone AS text) IS NULL OR p.zone_code = :zone)
      AND (CAST(:everywhere AS boolean) OR p.areas && CAST(:scope AS text[]))
), f AS (
    SELECT f.place_category, i.status, i.closed_at, i.due_at
    FROM inspection_finding f
    JOIN inspection_check c ON c.id = f.check_id
    JOIN incident i ON i.id = f.incident_id
    WHERE c.visit_id IN (SELECT id FROM v)
)
SELECT (SELECT count(*) FROM v) AS visits_made,
       (SELECT COALESCE(sum(checks), 0) FROM v) AS checks_made,
       (SELECT COALESCE(sum(GREATEST(checks - 1, 0)), 0) FROM v) AS separate_visits_saved,
       (SELECT count(*) FROM f) AS findings,
       (SELECT COALESCE(jsonb_agg(jsonb_build_object('category', place_category, 'findings', n)
                                  ORDER BY place_category), '[]'::jsonb)
        FROM (SELECT place_category, count(*) AS n FROM f GROUP BY 1) g) AS findings_per_category,
       (SELECT count(*) FROM f WHERE status = 'closed') AS rectified,
       (SELECT count(*) FROM f WHERE status = 'closed' AND (due_at IS NULL OR closed_at <= due_at)) AS rectified_on_time
