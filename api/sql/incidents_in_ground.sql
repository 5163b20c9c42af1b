-- Open incidents inside some ground (hex WKB), with their snapshot codes, locked for the re-route.
-- Params: ground.
SELECT i.id, ST_X(i.location) AS lon, ST_Y(i.location) AS lat, i.grid_code, i.community_code,
       i.street_code, i.district_code, i.zone_code, i.station_code
FROM incident i
WHERE i.status NOT IN ('closed', 'void', 'duplicate', 'not_responsible')
  AND ST_Intersects(i.location, ST_GeomFromWKB(decode(:ground, 'hex'), 4326))
ORDER BY i.id
FOR UPDATE
