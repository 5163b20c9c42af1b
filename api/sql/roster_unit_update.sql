-- A unit's roster columns from a roster file (its status and position stay its phone's).
UPDATE unit SET name = :name, department_code = :department, station_code = :station, patrol_zone_code = :patrol_zone
WHERE code = :code
