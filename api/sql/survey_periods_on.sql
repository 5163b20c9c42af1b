-- Every street's period whose days include :on (one a street: periods never overlap).
SELECT p.id, p.street_code, a.name AS street_name, a.name_en AS street_name_en, area_lineage(p.street_code) AS lineage,
       p.template_code, p.opens, p.closes, p.closed_at,
       CASE WHEN p.closed_at IS NOT NULL OR CAST(:today AS date) > p.closes THEN 'closed'
            WHEN CAST(:today AS date) < p.opens THEN 'scheduled' ELSE 'open' END AS state
FROM survey_period p LEFT JOIN area a ON a.code = p.street_code AND a.valid_to IS NULL
WHERE CAST(:on AS date) BETWEEN p.opens AND p.closes
ORDER BY p.street_code
