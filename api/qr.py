"""The QR code on the wall (浔安码): a signed link to the report page for one grid, and its poster.

The link carries the grid's code and an HMAC of it under the QR key (``GRIDGOV_QR_KEY``, kept
when other keys rotate: the posters stay on the walls for years). A report that comes with a
code is checked: a bad signature, or a GPS point far from the grid the code names, is kept
and flagged for the desk, never silently trusted. The poster itself: ``api.posters``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode

import segno

SIGNATURE_BYTES = 12  # 96 bits: short enough for a small QR, far beyond guessing
MISMATCH_M = 200      # a QR report farther than this from its grid is flagged


def signature(key: str, grid_code: str) -> str:
    mac = hmac.new(key.encode(), f"gridgov-qr\n{grid_code}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:SIGNATURE_BYTES]).decode().rstrip("=")


def verify(key: str, grid_code: str, sig: str | None) -> bool:
    return bool(sig) and hmac.compare_digest(signature(key, grid_code), sig)


def report_url(base_url: str, key: str, grid_code: str) -> str:
    """``https://…/report?g=<grid>&s=<signature>``."""
    return f"{base_url.rstrip('/')}/report?{urlencode({'g': grid_code, 's': signature(key, grid_code)})}"


def qr_code(url: str) -> segno.QRCode:
    return segno.make(url, error="m", micro=False)


async def flags(conn, key: str, grid_code: str, sig: str | None, lon: float, lat: float,
                routed_grid: str | None) -> list[str]:
    """What the desk should know about a report that came through a QR code."""
    from spatial.sqlfiles import sql

    if not verify(key, grid_code, sig):
        return ["qr_bad_signature"]
    if routed_grid == grid_code:
        return []
    metres = await sql.scalar(conn, "area_distance", {"code": grid_code, "lon": lon, "lat": lat})
    if metres is None:  # not a current grid: a poster from before an edit?
        old = await sql.fetchone(conn, "grid_successors", {"code": grid_code})
        if old is not None and routed_grid in {s["code"] for s in old["successors"]}:
            return ["qr_retired_grid"]  # the report went to a grid that took over the poster's ground
    return ["qr_mismatch"] if metres is None or metres > MISMATCH_M else []
