"""Layer files in and out: GeoJSON, GeoPackage, zipped Shapefile and KML (pyogrio).

``read`` turns a file into a WGS-84 GeoDataFrame with each feature's row number,
``check`` lists every feature's problems, ``write`` writes a layer to any of the formats.
"""

from spatial.io.formats import FORMATS, detect_format
from spatial.io.read import read_layer
from spatial.io.write import write_layer

__all__ = ["FORMATS", "detect_format", "read_layer", "write_layer"]
