-- The newest case-file event (where a hub that lost its connection resumes from).
SELECT max(id) FROM incident_event
