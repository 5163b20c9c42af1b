-- A current street: its name and the codes above it (for the caller's reach).
SELECT code, name, name_en, area_lineage(code) AS lineage
FROM area WHERE code = :code AND kind = 'street' AND valid_to IS NULL
