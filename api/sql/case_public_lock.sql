SELECT id, tracking_code, status, category_code FROM incident WHERE id = :id FOR UPDATE
