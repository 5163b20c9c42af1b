-- Photos are stored once by content: the same picture uploaded twice is one row.
INSERT INTO attachment (sha256, media_type, bytes, width, height, created_by)
VALUES (:sha256, :media_type, :bytes, :width, :height, :actor)
ON CONFLICT (sha256) DO NOTHING
