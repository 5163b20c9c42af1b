-- Units of these codes, as a roster file compares them (a position is the phone's: not compared). Params: codes.
SELECT code, name, department_code AS department, station_code AS station, patrol_zone_code AS patrol_zone
FROM unit WHERE code = ANY(CAST(:codes AS text[]))
