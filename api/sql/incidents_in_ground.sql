-- Open incidents inside some ground (hex WKB), with their snapshot codes, locked for the re-route,
-- and the patrol zone of their category's first department that now covers them (the rule of
-- intake: lowest code on a shared edge). Params: ground.
SELECT i.id, ST_X(i.location) AS lon, ST_Y(i.location) AS lat, i.grid_code, i.community_code,
       i.street_code, i.district_code, i.zone_code, i.station_code, i.patrol_zone_code,
       (SELECT p.code FROM area p JOIN category c ON c.code = i.category_code
        WHERE p.kind = 'patrol_zone' AND p.valid_to IS NULL AND p.department_code = c.departments[1]
          AND ST_Covers(p.geom, i.location)
        ORDER BY p.code LIMIT 1) AS patrol_now
FROM incident i
WHERE i.status NOT IN ('closed', 'void', 'duplicate', 'not_responsible')
  AND ST_Intersects(i.location, ST_GeomFromWKB(decode(:ground, 'hex'), 4326))
ORDER BY i.id
FOR UPDATE
