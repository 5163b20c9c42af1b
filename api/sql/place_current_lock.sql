-- The current rows of these places, locked for a new version (or a retirement).
SELECT id, code, version, category, name, address, licences, responsible, contact, risk_level,
       ST_X(location) AS lon, ST_Y(location) AS lat, grid_code, community_code, street_code, district_code,
       zone_code, areas
FROM place WHERE code = ANY(CAST(:codes AS text[])) AND valid_to IS NULL
ORDER BY code FOR UPDATE
