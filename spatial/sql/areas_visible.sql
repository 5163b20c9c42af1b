-- The codes of the current areas a map scope shows (the rule of area_in_map_scope), computed
-- once per scope and boundary fingerprint by the tile server instead of once per feature.
SELECT coalesce(array_agg(code), '{}') FROM area
WHERE valid_to IS NULL AND area_in_map_scope(code, parent_code, kind, geom, CAST(:scope AS text[]))
