-- Whether one incident is in the caller's reach (a row, or none).
SELECT i.id FROM incident i
WHERE i.id = :id
  AND incident_in_reach(i.id, i.areas, CAST(:everywhere AS boolean), CAST(:scope AS text[]), CAST(:unit AS text))
