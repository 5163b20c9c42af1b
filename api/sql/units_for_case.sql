-- Any unit the desk may read (the rule of /api/units), nearest to the case first, with what the
-- desk weighs: status, department, distance and the age of its position. Optional filters:
-- :department, :pattern (ILIKE on name or code). Units without a position come last. (A
-- district has a few hundred units: each distance is computed on the spheroid, no KNN needed.)
SELECT u.code, u.name, u.department_code AS department, u.status, u.station_code,
       round(ST_Distance(u.position::geography, p.g::geography)::numeric, 1)::float8 AS distance_m,
       round(extract(epoch FROM now() - u.position_at))::float8 AS position_age_s
FROM unit u, (SELECT ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326) AS g) p
WHERE unit_in_reach(u.station_code, u.code, CAST(:everywhere AS boolean), CAST(:scope AS text[]),
                    CAST(:unit AS text))
  AND (CAST(:department AS text) IS NULL OR u.department_code = CAST(:department AS text))
  AND (CAST(:pattern AS text) IS NULL OR u.name ILIKE CAST(:pattern AS text) OR u.code ILIKE CAST(:pattern AS text))
ORDER BY distance_m NULLS LAST, u.code
LIMIT CAST(:limit AS int)
