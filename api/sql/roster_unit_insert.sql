-- A new unit from a roster file: off duty, at its starting position (if given) until its phone reports.
INSERT INTO unit (code, name, department_code, station_code, patrol_zone_code, position)
VALUES (:code, :name, :department, :station, :patrol_zone,
        CASE WHEN CAST(:lon AS float8) IS NOT NULL
             THEN ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326) END)
