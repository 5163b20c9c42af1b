-- the zone's linkage workstation (one a zone) with its point, and the zone with its ancestors
WITH RECURSIVE up(code, parent_code) AS (
    SELECT code, parent_code FROM area WHERE code = :zone AND kind = 'zone' AND valid_to IS NULL
    UNION  -- not ALL: a district is its own parent
    SELECT a.code, a.parent_code FROM area a JOIN up ON a.code = up.parent_code AND a.valid_to IS NULL
)
SELECT s.code, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat, ARRAY(SELECT code FROM up) AS areas
FROM station s WHERE s.zone_code = :zone AND EXISTS (SELECT 1 FROM up)
