-- New versions of places, one per array position; the version follows the place's last one.
-- licences: each a JSON array of text.
INSERT INTO place (code, version, valid_from, category, name, address, licences, responsible, contact, risk_level,
                   location, grid_code, community_code, street_code, district_code, zone_code, changed_by, reason)
SELECT x.code,
       coalesce((SELECT max(p.version) FROM place p WHERE p.code = x.code), 0) + 1,
       :ts, x.category, x.name, x.address,
       ARRAY(SELECT jsonb_array_elements_text(CAST(x.licences AS jsonb))), x.responsible, x.contact, x.risk_level,
       ST_SetSRID(ST_MakePoint(x.lon, x.lat), 4326), x.grid, x.community, x.street, x.district, x.zone,
       :actor, :reason
FROM unnest(CAST(:codes AS text[]), CAST(:categories AS text[]), CAST(:names AS text[]),
            CAST(:addresses AS text[]), CAST(:licences AS text[]), CAST(:responsibles AS text[]),
            CAST(:contacts AS bytea[]), CAST(:risks AS text[]), CAST(:lons AS float8[]), CAST(:lats AS float8[]),
            CAST(:grids AS text[]), CAST(:communities AS text[]), CAST(:streets AS text[]),
            CAST(:districts AS text[]), CAST(:zones AS text[]))
     AS x(code, category, name, address, licences, responsible, contact, risk_level, lon, lat, grid, community,
          street, district, zone)
RETURNING code, version
