-- Current places per category in reach, under an area (nullable).
SELECT category, count(*) AS n FROM place
WHERE valid_to IS NULL AND (CAST(:everywhere AS boolean) OR areas && CAST(:scope AS text[]))
  AND (CAST(:area AS text) IS NULL OR CAST(:area AS text) = ANY(areas))
GROUP BY category ORDER BY category
