SELECT ST_Area(geom::geography) / 1e6 FROM area WHERE code = :code AND valid_to IS NULL
