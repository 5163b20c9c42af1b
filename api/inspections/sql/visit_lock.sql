SELECT id, status FROM inspection_visit WHERE id = :id FOR UPDATE
