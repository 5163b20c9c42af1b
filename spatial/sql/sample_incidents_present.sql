-- Which of the sample's reports (by idempotency key) are in already.
SELECT idempotency_key FROM incident WHERE idempotency_key = ANY(:k)
