"""Vector tiles (Mapbox Vector Tiles from PostGIS) of the area layers and the heatmap."""
