UPDATE place p SET contact = x.sealed
FROM unnest(CAST(:ids AS bigint[]), CAST(:sealed AS bytea[])) AS x(id, sealed)
WHERE p.id = x.id
