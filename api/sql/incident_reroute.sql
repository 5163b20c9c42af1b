-- New snapshot codes for re-routed incidents; a routing document (not the sample's bare
-- snapshot) gets the new grid, community, street, district and zone. Params: parallel arrays
-- ids, grids, communities, streets, districts, zones, stations, patrols.
UPDATE incident i SET
    grid_code = n.grid, community_code = n.community, street_code = n.street,
    district_code = coalesce(n.district, i.district_code), zone_code = n.zone, station_code = n.station,
    patrol_zone_code = n.patrol,
    unrouted = n.grid IS NULL, updated_at = now(),
    routing = CASE WHEN i.routing ? 'grid' THEN i.routing || jsonb_build_object(
        'grid', (SELECT jsonb_build_object('code', a.code, 'name', a.name, 'parent_code', a.parent_code)
                 FROM area a WHERE a.valid_to IS NULL AND a.code = n.grid),
        'community', (SELECT jsonb_build_object('code', a.code, 'name', a.name, 'parent_code', a.parent_code)
                      FROM area a WHERE a.valid_to IS NULL AND a.code = n.community),
        'street', (SELECT jsonb_build_object('code', a.code, 'name', a.name, 'parent_code', a.parent_code)
                   FROM area a WHERE a.valid_to IS NULL AND a.code = n.street),
        'district', (SELECT jsonb_build_object('code', a.code, 'name', a.name)
                     FROM area a WHERE a.valid_to IS NULL AND a.code = n.district),
        'zone', (SELECT jsonb_build_object('code', a.code, 'name', a.name)
                 FROM area a WHERE a.valid_to IS NULL AND a.code = n.zone),
        'covering_grids', CASE WHEN n.grid IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(n.grid) END)
    ELSE i.routing END
FROM unnest(CAST(:ids AS bigint[]), CAST(:grids AS text[]), CAST(:communities AS text[]),
            CAST(:streets AS text[]), CAST(:districts AS text[]), CAST(:zones AS text[]),
            CAST(:stations AS text[]), CAST(:patrols AS text[]))
     AS n(id, grid, community, street, district, zone, station, patrol)
WHERE i.id = n.id
