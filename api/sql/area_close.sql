-- Close current rows (their next version, if any, starts at the same instant). Params: ids bigint[], ts.
UPDATE area SET valid_to = CAST(:ts AS timestamptz) WHERE id = ANY(CAST(:ids AS bigint[])) AND valid_to IS NULL
