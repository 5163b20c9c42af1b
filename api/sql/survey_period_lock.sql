-- One street's periods are opened one at a time (the overlap check below holds).
SELECT pg_advisory_xact_lock(hashtextextended('survey_period:' || :street, 0))
