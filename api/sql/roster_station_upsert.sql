-- A linkage workstation from a roster file, added or changed.
INSERT INTO station (code, name, zone_code, departments, geom)
VALUES (:code, :name, :zone, CAST(:departments AS text[]),
        ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326))
ON CONFLICT (code) DO UPDATE SET name = excluded.name, zone_code = excluded.zone_code,
    departments = excluded.departments, geom = excluded.geom
