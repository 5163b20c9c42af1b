UPDATE incident i SET reporter_contact = x.sealed
FROM unnest(CAST(:ids AS bigint[]), CAST(:sealed AS bytea[])) AS x(id, sealed)
WHERE i.id = x.id
