-- One computation of a month at a time (to the transaction's end).
SELECT pg_advisory_xact_lock(hashtext('star_month'), hashtext(CAST(:month AS text)))
