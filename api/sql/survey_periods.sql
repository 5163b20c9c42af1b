-- The survey periods: one (:id), a street's (:street) or all (both NULL), newest first, with their
-- state on :today (open, not yet open: scheduled, or closed).
SELECT p.id, p.street_code, a.name AS street_name, a.name_en AS street_name_en, area_lineage(p.street_code) AS lineage,
       p.template_code, p.opens, p.closes, p.closed_at, p.created_at,
       CASE WHEN p.closed_at IS NOT NULL OR CAST(:today AS date) > p.closes THEN 'closed'
            WHEN CAST(:today AS date) < p.opens THEN 'scheduled' ELSE 'open' END AS state,
       (SELECT count(*) FROM survey_answer s WHERE s.period_id = p.id) AS answers
FROM survey_period p LEFT JOIN area a ON a.code = p.street_code AND a.valid_to IS NULL
WHERE (CAST(:id AS bigint) IS NULL OR p.id = CAST(:id AS bigint))
  AND (CAST(:street AS text) IS NULL OR p.street_code = :street)
ORDER BY p.opens DESC, p.id DESC
