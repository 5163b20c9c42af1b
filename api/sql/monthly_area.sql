-- A current area for the monthly report: its names, kind and lineage (itself and the codes above it).
SELECT code, name, coalesce(name_en, name) AS name_en, kind, area_lineage(code) AS lineage
FROM area WHERE code = :code AND valid_to IS NULL
