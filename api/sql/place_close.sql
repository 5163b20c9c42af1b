-- Close the current versions (a new one follows, or the place is retired).
UPDATE place SET valid_to = :ts WHERE id = ANY(CAST(:ids AS bigint[]))
