INSERT INTO inspection_visit (plan_id, seq, place_code, departments, overdue, recheck)
SELECT :plan_id, s, code, string_to_array(deps, ','), overdue, recheck
FROM unnest(CAST(:seqs AS int[]), CAST(:codes AS text[]), CAST(:departments AS text[]),
            CAST(:overdues AS float8[]), CAST(:rechecks AS boolean[])) AS t(s, code, deps, overdue, recheck)
