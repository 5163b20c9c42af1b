"""Section 6: the resident's side: a 3 MB phone photo through the public upload (decoded,
re-encoded without metadata, stored by content), and what the report page weighs on first load."""

from __future__ import annotations

import io
import time

import httpx
import numpy as np
from PIL import Image

from bench.report import Report, latency_stats, ms, ratio

WARMUP = 3
PAGE_ASSETS = ["/report", "/static/report.js", "/static/outbox.js", "/static/strings-report.js",
               "/static/report.css", "/static/app.css", "/static/i18n.js", "/static/dom.js",
               "/vendor/leaflet/leaflet.js", "/vendor/leaflet/leaflet.css", "/sw.js"]


def phone_photo(rng: np.random.Generator, target_bytes: int = 3_000_000) -> bytes:
    """A noisy 4032x3024 JPEG of about 3 MB with EXIF, like a phone's."""
    base = rng.integers(0, 255, (756, 1008, 3), dtype=np.uint8)
    img = Image.fromarray(base).resize((4032, 3024), Image.Resampling.NEAREST)
    exif = Image.Exif()
    exif[0x010F] = "BenchPhone"
    for quality in (92, 85, 75, 60, 45):
        out = io.BytesIO()
        img.save(out, format="JPEG", quality=quality, exif=exif)
        if out.tell() <= target_bytes * 1.3:
            break
    return out.getvalue()


def run(report: Report, client: httpx.Client, point: tuple[float, float], n: int, seed: int,
        created: list[int]) -> None:
    from api.attachments import clean_image

    photo = phone_photo(np.random.default_rng(seed))
    res = client.post("/api/incidents", json={"category": "garbage", "lon": point[0], "lat": point[1]})
    case = res.json()
    created.append(case["id"])
    url = f"/api/public/incidents/{case['tracking_code']}/attachments"
    headers = {"X-Reporter-Token": case["reporter_token"]}
    clean = []
    for _ in range(WARMUP + n):
        t0 = time.perf_counter()
        clean_image(photo)
        clean.append(time.perf_counter() - t0)
    http = []
    for i in range(WARMUP + n):
        # a different picture each time (one changed pixel row) so that nothing is deduplicated
        body = photo[:-200] + bytes([i % 250]) * 198 + photo[-2:]
        t0 = time.perf_counter()
        res = client.post(url, files={"file": ("p.jpg", body, "image/jpeg")}, headers=headers)
        http.append(time.perf_counter() - t0)
        if res.status_code not in (201, 409, 422):
            raise RuntimeError(f"photo upload -> {res.status_code}: {res.text[:200]}")
        if res.status_code == 409:  # the four-photo limit: a new case for the next ones
            c = client.post("/api/incidents", json={"category": "garbage", "lon": point[0], "lat": point[1]}).json()
            created.append(c["id"])
            url = f"/api/public/incidents/{c['tracking_code']}/attachments"
            headers = {"X-Reporter-Token": c["reporter_token"]}
    c_stats, h_stats = latency_stats(clean[WARMUP:]), latency_stats(http[WARMUP:])
    report.table(["photo intake, %.1f MB JPEG 4032x3024" % (len(photo) / 1e6), "runs", "p50 ms", "p95 ms",
                  "p50 / (a)"],
                 [["(a) decode + strip metadata + re-encode (Pillow), no I/O (baseline)", n, ms(c_stats["p50"]),
                   ms(c_stats["p95"]), "1.00x"],
                  ["(b) POST /api/public/incidents/{code}/attachments (HTTP, stored by sha256)", n,
                   ms(h_stats["p50"]), ms(h_stats["p95"]), ratio(h_stats["p50"], c_stats["p50"])]])
    sizes = []
    for path in PAGE_ASSETS:
        r = client.get(path, headers={"Accept-Encoding": "identity"})
        sizes.append((path, len(r.content), r.status_code))
    total = sum(s for _, s, _ in sizes)
    report.table(["report page, first load (no compression)", "bytes", "status"],
                 [[p, f"{s:,}", st] for p, s, st in sizes] + [["total", f"{total:,}", ""]])
    report.out("  the service worker caches these for later visits; categories, the grid name and the place "
               "names are a few hundred bytes of JSON each")
