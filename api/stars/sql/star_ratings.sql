-- The newest computation of each subject's month, in the caller's reach (:everywhere, or one of
-- its areas :scope among the subject's), with the newest adjustment of that subject's month.
-- Filters (NULL = all): :month, :kind, :subject, :id (one computation, newest or not).
SELECT x.*, coalesce(st.name, u.name) AS name, st.zone_code, u.department_code,
       adj.id AS adjustment_id, adj.rating_id AS adjustment_rating_id, adj.stars AS adjustment_stars,
       adj.reason AS adjustment_reason, adj.adjusted_by, adj.adjusted_at
FROM (
    SELECT DISTINCT ON (r.kind, r.subject, r.month) r.*,
           first_value(r.id) OVER (PARTITION BY r.kind, r.subject, r.month
                                   ORDER BY r.computed_at DESC, r.id DESC) AS newest_id
    FROM star_rating r
    WHERE (CAST(:month AS date) IS NULL OR r.month = CAST(:month AS date))
      AND (CAST(:kind AS text) IS NULL OR r.kind = CAST(:kind AS text))
      AND (CAST(:subject AS text) IS NULL OR r.subject = CAST(:subject AS text))
      AND (CAST(:everywhere AS boolean) OR r.areas && CAST(:scope AS text[]))
    ORDER BY r.kind, r.subject, r.month,
             (r.id = CAST(:id AS bigint)) IS TRUE DESC, r.computed_at DESC, r.id DESC
) x
LEFT JOIN station st ON x.kind = 'station' AND st.code = x.subject
LEFT JOIN unit u ON x.kind = 'unit' AND u.code = x.subject
LEFT JOIN LATERAL (
    SELECT a.* FROM star_adjustment a JOIN star_rating r2 ON r2.id = a.rating_id
    WHERE r2.kind = x.kind AND r2.subject = x.subject AND r2.month = x.month
    ORDER BY a.adjusted_at DESC, a.id DESC LIMIT 1
) adj ON true
WHERE CAST(:id AS bigint) IS NULL OR x.id = CAST(:id AS bigint)
ORDER BY x.month DESC, x.kind, x.subject
