-- The most reported categories of a window under an area, in the caller's KPI reach (the
-- monthly report): the same cases as the KPI ``received`` with the category filter.
SELECT i.category_code AS code, c.name, c.name_en, count(*) AS received
FROM incident i JOIN category c ON c.code = i.category_code
WHERE i.reported_at >= CAST(:start AS timestamptz) AND i.reported_at < CAST(:stop AS timestamptz)
  AND incident_in_reach(i.id, i.areas, CAST(:everywhere AS boolean), CAST(:scope AS text[]), CAST(NULL AS text))
  AND i.areas @> ARRAY[CAST(:area AS text)]
GROUP BY 1, 2, 3
ORDER BY 4 DESC, 1
LIMIT :top
