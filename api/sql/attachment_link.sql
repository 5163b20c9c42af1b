-- Link uploaded photos to the event that reports them (only photos uploaded to this case).
UPDATE incident_attachment SET event_id = :event_id
WHERE incident_id = :incident_id AND sha256 = ANY(CAST(:photos AS text[]))
RETURNING sha256
