"""Shared helpers: SQL for psycopg, seeded points, the app on a loopback port, memory."""

from __future__ import annotations

import resource
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import psycopg
import shapely

from spatial.sqlfiles import SqlFiles, pyformat, raw_sql


def psycopg_sql(name: str, package: str = "spatial") -> tuple[str, frozenset[str]]:
    """``<package>/sql/<name>.sql`` with ``%(name)s`` placeholders (literal ``%`` doubled)."""
    return pyformat(raw_sql(name) if package == "spatial" else SqlFiles(package).text(name))


def district_shape(dsn: str):
    with psycopg.connect(dsn, autocommit=True) as conn:
        wkb = conn.execute("""SELECT ST_AsBinary(ST_Union(geom)) FROM area
                              WHERE kind = 'district' AND valid_to IS NULL""").fetchone()[0]
    if wkb is None:
        raise SystemExit("no district in the database: load the sample first (make bench runs setup)")
    return shapely.from_wkb(bytes(wkb))


def points_inside(shape, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uniform random points inside ``shape`` (rejection sampling in its bbox)."""
    shapely.prepare(shape)
    xmin, ymin, xmax, ymax = shape.bounds
    xs, ys = [], []
    have = 0
    while have < n:
        x = rng.uniform(xmin, xmax, 2 * n)
        y = rng.uniform(ymin, ymax, 2 * n)
        keep = shapely.contains_xy(shape, x, y)
        xs.append(x[keep])
        ys.append(y[keep])
        have += int(keep.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def points_in_bbox(shape, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    xmin, ymin, xmax, ymax = shape.bounds
    return rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(app) -> Iterator[str]:
    """The app served by uvicorn in a thread on a loopback port; yields the base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, name="bench-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


# --- memory ---------------------------------------------------------------------------

def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class PeakRss:
    """Peak resident memory above the level at the start of a block, in MiB.

    On Linux the high-water mark is reset first (``/proc/self/clear_refs`` ← 5), so the
    peak belongs to the block; elsewhere it falls back to the ``ru_maxrss`` delta, which
    only shows growth beyond every earlier peak of the process.
    """

    def __enter__(self) -> PeakRss:
        self.exact = False
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self.exact = _status_kb("VmHWM") is not None
        except OSError:
            pass
        self.start_kb = _status_kb("VmRSS") if self.exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return self

    def __exit__(self, *exc) -> None:
        end = _status_kb("VmHWM") if self.exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.mib = max(0, end - self.start_kb) / 1024.0
