-- plans in reach (a zone's dispatcher, or a unit of the team), of one plan, a zone or a day
SELECT p.id, p.zone_code AS zone, p.station_code AS station, ST_X(s.geom) AS station_lon,
       ST_Y(s.geom) AS station_lat, p.day, p.team, p.departments, p.route_m, p.naive_m, p.left_out
FROM inspection_plan p JOIN station s ON s.code = p.station_code
WHERE (CAST(:everywhere AS boolean) OR p.areas && CAST(:scope AS text[]) OR CAST(:unit AS text) = ANY(p.team))
  AND (CAST(:id AS bigint) IS NULL OR p.id = :id)
  AND (CAST(:zone AS text) IS NULL OR p.zone_code = :zone)
  AND (CAST(:day AS date) IS NULL OR p.day = :day)
ORDER BY p.day, p.id
LIMIT 200
