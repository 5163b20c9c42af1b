-- Wait for an advisory lock held to the end of the transaction (a schedule load waits for the
-- scheduler's round to end, and the round skips while a load runs).
SELECT pg_advisory_xact_lock(:key)
