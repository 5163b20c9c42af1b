"""Peak memory of the geopandas side in a fresh process: ``python -m bench.gpd_memory N SEED``
(database from ``BENCH_DSN`` / ``BENCH_URL``).

Prints one JSON line: ``load_mib`` (read_postgis + STRtrees, above the resident size after
the imports) and ``route_mib`` (routing N points, above the resident size after the
load). A fresh process keeps memory freed by earlier steps of the bench from hiding the
growth; the high-water mark is reset (``/proc/self/clear_refs``) before each step.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> int:
    dsn, url = os.environ["BENCH_DSN"], os.environ["BENCH_URL"]
    n, seed = int(sys.argv[1]), int(sys.argv[2])
    import geopandas  # noqa: F401  (imports count as the baseline, not as the load)
    import numpy as np

    from api.settings import Settings
    from bench.bulk import gpd_route, load_layers
    from bench.common import PeakRss, district_shape, points_in_bbox

    shape = district_shape(dsn)
    lons, lats = points_in_bbox(shape, n, np.random.default_rng(seed + n))   # the same points as bench.bulk
    with PeakRss() as load:
        layers = load_layers(Settings(database_url=url))
    with PeakRss() as route:
        gpd_route(layers, lons, lats)
    print(json.dumps({"load_mib": load.mib, "route_mib": route.mib, "exact": route.exact}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
