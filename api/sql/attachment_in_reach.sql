-- A photo's bytes if it is attached to an incident in the caller's reach.
SELECT a.bytes, a.media_type
FROM attachment a
WHERE a.sha256 = :sha256
  AND EXISTS (SELECT 1 FROM incident_attachment ia JOIN incident i ON i.id = ia.incident_id
              WHERE ia.sha256 = a.sha256
                AND incident_in_reach(i.id, i.areas, CAST(:everywhere AS boolean), CAST(:scope AS text[]), CAST(:unit AS text)))
