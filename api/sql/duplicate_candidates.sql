-- Open cases of the same category within :radius_m metres reported in the last :hours hours,
-- nearest first: what a new report may be a duplicate of (the SQL function of migration 0015).
SELECT * FROM duplicate_candidates(:category, CAST(:lon AS float8), CAST(:lat AS float8),
                                   CAST(:radius_m AS float8), CAST(:hours AS int),
                                   CAST(NULL AS bigint), CAST(:limit AS int))
