-- The incident an (already keyed) Idempotency-Key created.
SELECT id, tracking_code, status, routing, request_hash FROM incident WHERE idempotency_key = :k
