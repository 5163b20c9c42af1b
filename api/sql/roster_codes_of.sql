-- Which of these codes the table has: departments, stations or units. Params: table_name, codes.
SELECT code FROM department WHERE CAST(:table_name AS text) = 'department' AND code = ANY(CAST(:codes AS text[]))
UNION ALL
SELECT code FROM station WHERE CAST(:table_name AS text) = 'station' AND code = ANY(CAST(:codes AS text[]))
UNION ALL
SELECT code FROM unit WHERE CAST(:table_name AS text) = 'unit' AND code = ANY(CAST(:codes AS text[]))
