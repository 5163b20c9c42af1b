INSERT INTO inspection_plan (zone_code, station_code, day, areas, team, departments, route_m, naive_m, left_out,
                             created_by, created_at)
VALUES (:zone, :station, :day, :areas, :team, :departments, :route_m, :naive_m, :left_out, :actor, :ts)
RETURNING id
