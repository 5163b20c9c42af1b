"""Hostile requests against one app worker: what a photo, a layer file or a split line costs
the process that takes it (issue 19). ``python -m bench.hostile`` runs this section alone.

Every row starts a fresh ``gridgov serve --workers 1``, warms it with one request, resets its
high-water mark (``/proc/<pid>/clear_refs``, so the start-up's peak does not hide a smaller
one), sends the requests (several at once from as many client threads) and reads the worker's
peak resident memory (``VmHWM``) and CPU time.

Photos: a phone-like 12 MP JPEG (4032x3024, about 3 MB, EXIF; ``bench.reporter``) one and four
at once, a 48 MP one (8000x6000), and the probe's 6300x6300 RGBA PNG (about 160 kB of file,
159 MB of pixels once decoded), one and four at once. Layer import: the probe's zipped
shapefile of 1,000,000 points (the cap is 50,000 features). Grid editor: the probe's split
preview by a line of 4,000 vertices zigzagging across a grid. Baseline: the growth of (a), one
ordinary phone photo; every row's growth is given as a ratio of it.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from bench.report import Report, ratio
from bench.reporter import phone_photo

POINT = (120.4172, 30.8729)   # in Nanxun town: anonymous reports route there
HOSTILE_SIDE = 6300
IMPORT_POINTS = 1_000_000


def hostile_png() -> bytes:
    """One colour, 6300x6300 RGBA: about 154 kB of PNG, 6300*6300*4 = 158.8 MB of pixels."""
    out = io.BytesIO()
    Image.new("RGBA", (HOSTILE_SIDE, HOSTILE_SIDE), (30, 120, 200, 255)).save(out, format="PNG")
    return out.getvalue()


def photo_48mp(rng: np.random.Generator) -> bytes:
    """An 8000x6000 JPEG (a 48 MP phone's full-resolution photo) under the 8 MB upload cap."""
    base = rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)
    img = Image.fromarray(base).resize((8000, 6000), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=90)
    return out.getvalue()


def million_points_zip() -> bytes:
    """A zipped shapefile of 1,000,000 points at one spot, no attributes: 7.3 MB zipped, 48 MB
    unzipped (under the 64 MB a zip may unpack to, so the feature count is what refuses it)."""
    import geopandas as gpd
    import shapely

    n = IMPORT_POINTS
    frame = gpd.GeoDataFrame(geometry=shapely.points(np.full(n, POINT[0]), np.full(n, POINT[1])), crs=4326)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "points.shp"
        frame.to_file(path, driver="ESRI Shapefile", engine="pyogrio")
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for part in sorted(Path(tmp).iterdir()):
                zf.write(part, part.name)
    return out.getvalue()


def _status_mib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"no {field} for process {pid}")


def _reset_peak(pid: int) -> bool:
    """Set the process's VmHWM to its current resident size (Linux, same user); False if refused."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _new_case(client: httpx.Client, created: list[int]) -> tuple[str, dict]:
    res = client.post("/api/incidents", json={"category": "garbage", "lon": POINT[0], "lat": POINT[1]})
    if res.status_code != 201:
        raise RuntimeError(f"POST /api/incidents -> {res.status_code}: {res.text[:200]}")
    case = res.json()
    created.append(case["id"])  # removed at the end when the bench works in place
    return (f"/api/public/incidents/{case['tracking_code']}/attachments",
            {"X-Reporter-Token": case["reporter_token"]})


def _at_once(calls) -> tuple[list[tuple[int, int]], float]:
    """Run the calls from one thread each, all released together; ((status, answer bytes) of
    each, wall seconds)."""
    statuses: list[tuple[int, int]] = [(0, 0)] * len(calls)
    start = threading.Barrier(len(calls) + 1)

    def run(i, call):
        start.wait()
        statuses[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return statuses, time.perf_counter() - t0


def _photo_calls(url: str, photos: list[bytes], name: str, media: str, created: list[int]):
    def call_for(i, data):
        def call():
            with httpx.Client(base_url=url, trust_env=False, timeout=300) as c:
                target, headers = _new_case(c, created)
                res = c.post(target, files={"file": (name, data, media)}, headers=headers)
                return res.status_code, len(res.content)
        return call
    return [call_for(i, d) for i, d in enumerate(photos)]


def _post_calls(url: str, auth: dict, path: str, **request):
    def call():
        with httpx.Client(base_url=url, trust_env=False, timeout=600) as c:
            res = c.post(path, headers=auth, **request)
            return res.status_code, len(res.content)
    return [call]


def _admin(db) -> tuple[str, str, tuple[float, float, float, float]]:
    """The bench user also made an admin over the district (import and edits need edit_areas); a
    street to import under, and a grid with its bounds to split."""
    import psycopg

    with psycopg.connect(db.dsn) as conn:
        district = conn.execute("SELECT code FROM area WHERE kind = 'district' AND valid_to IS NULL "
                                "ORDER BY code LIMIT 1").fetchone()[0]
        street = conn.execute("SELECT code FROM area WHERE kind = 'street' AND valid_to IS NULL "
                              "ORDER BY code LIMIT 1").fetchone()[0]
        grid, *bounds = conn.execute("""SELECT code, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)
                                        FROM area WHERE kind = 'grid' AND valid_to IS NULL
                                        ORDER BY ST_Area(geom) DESC LIMIT 1""").fetchone()
        conn.execute("""INSERT INTO role_grant (user_id, role, area_code, granted_by)
                        SELECT id, 'admin', %s, 'bench' FROM app_user WHERE username = %s
                        ON CONFLICT DO NOTHING""", (district, db.username))
    return street, grid, tuple(bounds)


def zigzag_split(grid: str, bounds, vertices: int = 4000) -> dict:
    """A split by a line across the grid and back, ``vertices`` points (the probe's 4,000)."""
    x0, y0, x1, y1 = bounds
    xs = np.linspace(x0 - 1e-4, x1 + 1e-4, vertices)
    ys = np.where(np.arange(vertices) % 2 == 0, y0 - 1e-4, y1 + 1e-4)
    return {"op": "split", "code": grid, "line": {"type": "LineString",
                                                 "coordinates": np.column_stack([xs, ys]).tolist()}}


def measure(db, make_calls) -> dict:
    """A fresh one-worker server: idle peak after a warm-up request, then the calls at once."""
    from bench.server import serve_process

    with serve_process(db.settings, 1) as served:
        pid = served.worker_pids()[0]
        with httpx.Client(base_url=served.url, trust_env=False, timeout=60) as client:
            _new_case(client, db.created_incidents)   # warm: routing, the pool, the upload route's imports
            auth = {}
            if db.username:
                res = client.post("/api/auth/token", data={"username": db.username, "password": db.password})
                auth = {"Authorization": f"Bearer {res.json()['access_token']}"}
        reset = _reset_peak(pid)
        idle = _status_mib(pid, "VmRSS" if reset else "VmHWM")
        cpu0 = _cpu_s(pid)
        statuses, wall = _at_once(make_calls(served.url, auth))
        cpu = _cpu_s(pid) - cpu0
        peak = _status_mib(pid, "VmHWM")
    return {"idle": idle, "peak": peak, "cpu": cpu, "wall": wall, "statuses": statuses, "reset": reset}


def run(report: Report, db, seed: int = 20261121) -> None:
    rng = np.random.default_rng(seed)
    phone, big, bomb = phone_photo(rng), photo_48mp(rng), hostile_png()
    street, grid, bounds = _admin(db)
    zipped = million_points_zip()
    created = db.created_incidents
    rows = [
        (f"(a) one 12 MP phone JPEG ({len(phone) / 1e6:.1f} MB) (baseline)",
         lambda url, auth: _photo_calls(url, [phone], "p.jpg", "image/jpeg", created)),
        ("(b) four 12 MP phone JPEGs at once",
         lambda url, auth: _photo_calls(url, [phone[:-200] + bytes([i]) * 198 + phone[-2:] for i in range(4)],
                                        "p.jpg", "image/jpeg", created)),
        (f"(c) one 48 MP phone JPEG 8000x6000 ({len(big) / 1e6:.1f} MB)",
         lambda url, auth: _photo_calls(url, [big], "p.jpg", "image/jpeg", created)),
        (f"(d) one hostile {HOSTILE_SIDE}x{HOSTILE_SIDE} RGBA PNG ({len(bomb) // 1000} kB)",
         lambda url, auth: _photo_calls(url, [bomb], "p.png", "image/png", created)),
        ("(e) four hostile PNGs at once",
         lambda url, auth: _photo_calls(url, [bomb] * 4, "p.png", "image/png", created)),
        (f"(f) layer import: zipped shapefile of {IMPORT_POINTS:,} points ({len(zipped) / 1e6:.1f} MB)",
         lambda url, auth: _post_calls(url, auth, "/api/areas/import", files={
             "file": ("points.zip", zipped, "application/zip")}, params={
             "layer": "grid", "parent": street, "dry_run": "true"})),
        ("(g) split preview by a line of 4,000 vertices zigzagging across a grid",
         lambda url, auth: _post_calls(url, auth, "/api/areas/edits/preview", json=zigzag_split(grid, bounds))),
    ]
    results = [(label, measure(db, calls)) for label, calls in rows]
    base = results[0][1]["peak"] - results[0][1]["idle"]
    table = []
    for label, r in results:
        grew = r["peak"] - r["idle"]
        table.append([label, " ".join(str(status) for status, _ in r["statuses"]),
                      f"{max(size for _, size in r['statuses']):,}", f"{r['wall']:.2f}", f"{r['cpu']:.2f}",
                      f"{r['idle']:.0f}", f"{r['peak']:.0f}", f"{grew:.0f}", ratio(grew, base)])
    report.table(["one worker (gridgov serve --workers 1), fresh per row", "answers", "largest answer B", "wall s",
                  "worker CPU s", "idle MiB", "peak MiB", "growth MiB", "growth / (a)"], table)
    how = ("its resident size after one warm-up report, when its high-water mark was reset"
           if all(r["reset"] for _, r in results) else "its high-water mark after one warm-up report (no reset)")
    report.out(f"  peak: the worker's VmHWM after the requests; idle: {how}; growth = peak - idle. "
               "Each photo goes to its own new report (no deduplication, no four-photo limit).")


def main() -> int:
    from api.settings import Settings
    from bench.dbenv import bench_database

    report = Report()
    report.section("Hostile requests: one worker's peak memory and CPU (issue 19)")
    with bench_database(Settings(), public_rate_per_minute=10**9) as db:
        run(report, db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
