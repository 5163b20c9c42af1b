-- One unit's step on its active assignment: accepted, then on scene (each once).
UPDATE assignment SET
    accepted_at = CASE WHEN :step = 'accept' THEN CAST(:at AS timestamptz) ELSE accepted_at END,
    on_scene_at = CASE WHEN :step = 'arrive' THEN CAST(:at AS timestamptz) ELSE on_scene_at END
WHERE incident_id = :incident_id AND unit_code = :unit_code AND cleared_at IS NULL
  AND ((:step = 'accept' AND accepted_at IS NULL)
       OR (:step = 'arrive' AND accepted_at IS NOT NULL AND on_scene_at IS NULL))
RETURNING id
