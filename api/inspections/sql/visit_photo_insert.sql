INSERT INTO inspection_photo (visit_id, sha256, added_by) VALUES (:visit_id, :sha256, :actor)
ON CONFLICT (visit_id, sha256) DO NOTHING
