-- One patrol, locked for a write, with its last fix. Params: id.
SELECT p.id, p.worker, p.grid_code, p.started_at, p.ended_at, p.fixes, p.last_at,
       ST_X(ST_EndPoint(p.track)) AS last_lon, ST_Y(ST_EndPoint(p.track)) AS last_lat
FROM patrol p WHERE p.id = :id
FOR UPDATE
