-- One writer of a district's configuration versions at a time (to the transaction's end).
SELECT pg_advisory_xact_lock(hashtext('star_config'), hashtext(:district))
