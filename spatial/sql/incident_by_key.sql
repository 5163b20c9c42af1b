SELECT id, tracking_code, status, routing, request_hash FROM incident WHERE idempotency_key = :k
