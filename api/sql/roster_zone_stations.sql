-- The station each of these zones has now. Params: zones.
SELECT zone_code AS zone, code FROM station WHERE zone_code = ANY(CAST(:zones AS text[]))
