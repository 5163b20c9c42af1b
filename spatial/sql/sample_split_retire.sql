-- A split in the sample's history (sample_geodata/history.json), first half: the grid :from takes
-- its present outline as version 2 from :at, and the grid :new begins at :at. Does nothing once
-- done (:from has a version 2 already) or when either grid is missing or was edited since.
UPDATE area a
SET version = CASE WHEN a.code = :from THEN 2 ELSE 1 END,
    valid_from = CAST(:at AS timestamptz), reason = :reason
WHERE a.code IN (:from, :new) AND a.version = 1 AND a.valid_to IS NULL
  AND (SELECT count(*) FROM area v WHERE v.code IN (:from, :new)) = 2
