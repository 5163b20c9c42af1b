-- A place's versions (oldest first) when its current or last version is in the caller's reach;
-- with_contact: the sealed contact of each (the service unseals only for a capable caller).
SELECT p.code, p.version, p.category, p.name, p.address, p.licences, p.responsible,
       p.contact IS NOT NULL AS has_contact, p.contact, p.risk_level, ST_X(p.location) AS lon, ST_Y(p.location) AS lat,
       p.grid_code, p.community_code, p.street_code, p.district_code, p.zone_code, p.areas,
       p.valid_from, p.valid_to, p.changed_by, p.reason
FROM place p
WHERE p.code = :code
  AND EXISTS (SELECT 1 FROM place last WHERE last.code = p.code
              AND last.version = (SELECT max(version) FROM place WHERE code = p.code)
              AND (CAST(:everywhere AS boolean) OR last.areas && CAST(:scope AS text[])))
ORDER BY p.version
