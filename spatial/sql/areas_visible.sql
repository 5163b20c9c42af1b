-- The codes of the current areas a map scope shows (the rule of area_in_map_scope), computed
-- once per scope and boundary fingerprint by the tile server instead of once per feature;
-- everything = the scope shows every current area (then tiles need no filter at all).
SELECT coalesce(array_agg(code) FILTER (WHERE shown), '{}') AS codes, coalesce(bool_and(shown), true) AS everything
FROM (SELECT code, area_in_map_scope(code, parent_code, kind, geom, CAST(:scope AS text[])) AS shown
      FROM area WHERE valid_to IS NULL) a
