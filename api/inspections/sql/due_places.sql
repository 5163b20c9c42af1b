-- the current places of a zone that one of :departments checks (a current checklist for the
-- category), with their last visit, when they were first registered, and whether findings of
-- theirs are still open; places with a visit planned and not yet made are left out
WITH cl AS (
    SELECT category, array_agg(department_code ORDER BY department_code) AS departments
    FROM checklist
    WHERE valid_to IS NULL AND department_code = ANY(CAST(:departments AS text[]))
    GROUP BY category
)
SELECT p.code, p.name, p.category, p.risk_level, p.address, ST_X(p.location) AS lon, ST_Y(p.location) AS lat,
       cl.departments,
       (SELECT max(v.done_at) FROM inspection_visit v WHERE v.place_code = p.code) AS last_visit,
       (SELECT min(f.valid_from) FROM place f WHERE f.code = p.code) AS since,
       EXISTS (SELECT 1 FROM inspection_finding f JOIN incident i ON i.id = f.incident_id
               WHERE f.place_code = p.code
                 AND i.status NOT IN ('closed', 'void', 'duplicate', 'not_responsible')) AS recheck
FROM place p
JOIN cl ON cl.category = p.category
WHERE p.valid_to IS NULL AND p.zone_code = :zone
  AND NOT EXISTS (SELECT 1 FROM inspection_visit v JOIN inspection_plan pl ON pl.id = v.plan_id
                  WHERE v.place_code = p.code AND v.done_at IS NULL AND pl.day >= CAST(:today AS date))
ORDER BY p.code
