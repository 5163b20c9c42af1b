"""The QR code on the wall (浔安码): a signed link to the report page for one grid, and its poster.

The link carries the grid's code and an HMAC of it under the QR key (``GRIDGOV_QR_KEY``, kept
when other keys rotate: the posters stay on the walls for years). A report that comes with a
code is checked: a bad signature, or a GPS point far from the grid the code names, is kept
and flagged for the desk, never silently trusted. The poster itself: ``api.posters``.

After ``gridgov secrets rotate qr`` the new key signs; posters signed with the previous key
are accepted until the overlap ends, then flagged like a bad signature. Either way the report
notes an old poster (``routing.qr``), so that ``gridgov qr stale`` names the grids to reprint.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import urlencode

import segno

SIGNATURE_BYTES = 12  # 96 bits: short enough for a small QR, far beyond guessing
MISMATCH_M = 200      # a QR report farther than this from its grid is flagged

Signed = Literal["current", "previous", "expired", "bad"]


@dataclass(frozen=True)
class Keys:
    """``current`` signs; ``previous`` (after a rotation) is accepted until ``previous_until``."""

    current: str
    previous: str | None = None
    previous_until: datetime | None = None

    def signed(self, grid_code: str, sig: str | None, now: datetime) -> Signed:
        """Which key signed a poster: the current one, the previous one inside the overlap or
        after it (``expired``: refused like a bad signature), or none."""
        if verify(self.current, grid_code, sig):
            return "current"
        if self.previous and verify(self.previous, grid_code, sig):
            return "previous" if self.previous_until is not None and now < self.previous_until else "expired"
        return "bad"


def keys_of(setting: str, overlap_until: datetime | None = None) -> Keys:
    """The keys of ``GRIDGOV_QR_KEY`` (``NEW`` or ``NEW,OLD``) and ``GRIDGOV_QR_OVERLAP_UNTIL``."""
    current, *rest = [k.strip() for k in setting.split(",")]
    return Keys(current, rest[0] if rest else None, overlap_until if rest else None)


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


async def flags(conn, signed: Signed, grid_code: str, lon: float, lat: float, routed_grid: str | None) -> list[str]:
    """What the desk should know about a report that came through a QR code signed as ``signed``
    (:meth:`Keys.signed`)."""
    from spatial.sqlfiles import sql

    if signed not in ("current", "previous"):
        return ["qr_bad_signature"]
    if routed_grid == grid_code:
        return []
    metres = await sql.scalar(conn, "area_distance", {"code": grid_code, "lon": lon, "lat": lat})
    if metres is None:  # not a current grid: a poster from before an edit?
        old = await sql.fetchone(conn, "grid_successors", {"code": grid_code})
        if old is not None and routed_grid in {s["code"] for s in old["successors"]}:
            return ["qr_retired_grid"]  # the report went to a grid that took over the poster's ground
    return ["qr_mismatch"] if metres is None or metres > MISMATCH_M else []


async def stale(conn, since: datetime | None = None) -> list[dict]:
    """Grids whose reports came through posters signed with a rotated-out key (``since``: only
    scans from then on), the last scan first: the posters to reprint (``gridgov qr --area``)."""
    from api.sqlfiles import sql

    return await sql.fetchall(conn, "qr_stale", {"since": since})
