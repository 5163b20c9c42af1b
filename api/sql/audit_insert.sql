INSERT INTO audit_log (actor, action, entity, entity_id, before, after, client)
VALUES (:actor, :action, :entity, :entity_id, CAST(:before AS jsonb), CAST(:after AS jsonb), :client)
