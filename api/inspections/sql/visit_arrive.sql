UPDATE inspection_visit SET status = 'arrived', arrived_at = :at, arrived_distance_m = :distance WHERE id = :id
