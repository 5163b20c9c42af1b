-- Whether a supporter has rated this case already (a row, or none).
SELECT 1 FROM incident_event
WHERE incident_id = :id AND kind = 'rated' AND (data ->> 'supporter') = CAST(:supporter AS text)
