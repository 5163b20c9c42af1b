SELECT id, at, actor, action, entity, entity_id, before, after, client
FROM audit_log
WHERE (CAST(:entity AS text) IS NULL OR entity = CAST(:entity AS text))
  AND (CAST(:entity_id AS text) IS NULL OR entity_id = CAST(:entity_id AS text))
ORDER BY at DESC, id DESC
LIMIT CAST(:limit AS int)
