-- One current area's outline as GeoJSON (report pages).
SELECT ST_AsGeoJSON(geom, 6)::json FROM area WHERE code = :code AND valid_to IS NULL
