"""The QR code on the wall (浔安码): a signed link to the report page for one grid, and its poster.

The link carries the grid's code and an HMAC of it under the QR key (``GRIDGOV_QR_KEY``, kept
when other keys rotate: the posters stay on the walls for years). A report that comes with a
code is checked: a bad signature, or a GPS point far from the grid the code names, is kept
and flagged for the desk, never silently trusted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from html import escape
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


# A4 in millimetres; the QR sits in the middle, 120 mm wide.
_W, _H, _QR = 210, 297, 120


def poster_svg(url: str, grid: dict) -> str:
    """A printable A4 poster (SVG): the grid's name and place, its people when the roster has
    them, the QR and short instructions in Chinese. ``grid``: code, name, community, street,
    roster (optional dict with leader / workers)."""
    code = qr_code(url)
    modules = code.symbol_size(scale=1, border=4)[0]
    scale = _QR / modules
    qr = code.svg_inline(scale=scale, border=4, omitsize=False, dark="#000", light="#fff")
    e = lambda v: escape("" if v is None else str(v))  # noqa: E731
    roster = grid.get("roster") or {}
    people = []
    if roster.get("leader"):
        people.append(f"网格长 {e(roster['leader'])}")
    if roster.get("workers"):
        people.append("网格员 " + "、".join(e(w) for w in roster["workers"]))
    lines = [
        (28, 16, "bold", "扫码上报 · 浔安码"),
        (42, 9, "normal", "Scan to report a problem in this grid"),
        (58, 11, "bold", f"{e(grid.get('street'))} {e(grid.get('community'))}"),
        (70, 13, "bold", e(grid.get("name"))),
    ] + [(80 + 8 * i, 8, "normal", p) for i, p in enumerate(people)]
    text = "".join(f'<text x="{_W / 2}" y="{y}" font-size="{size}" font-weight="{weight}" '
                   f'text-anchor="middle">{t}</text>' for y, size, weight, t in lines)
    steps = ["1. 用手机扫描二维码，打开上报页面", "2. 允许定位，选择问题类别，描述并拍照",
             "3. 提交后保存查询码，可随时查看办理进度并评价"]
    top = 100 + (_QR + 10)
    howto = "".join(f'<text x="30" y="{top + 9 * i}" font-size="7.5">{s}</text>' for i, s in enumerate(steps))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}mm" height="{_H}mm" viewBox="0 0 {_W} {_H}" '
            f'font-family="Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, sans-serif">'
            f'<rect width="{_W}" height="{_H}" fill="#fff"/>'
            f'<rect x="8" y="8" width="{_W - 16}" height="{_H - 16}" fill="none" stroke="#c8102e" stroke-width="1.5"/>'
            f"{text}<g transform=\"translate({(_W - _QR) / 2},100)\">{qr}</g>{howto}"
            f'<text x="{_W / 2}" y="{_H - 16}" font-size="6" text-anchor="middle" fill="#555">'
            f"网格编码 {e(grid.get('code'))}</text></svg>")


async def flags(conn, key: str, grid_code: str, sig: str | None, lon: float, lat: float,
                routed_grid: str | None) -> list[str]:
    """What the desk should know about a report that came through a QR code."""
    from spatial.sqlfiles import sql

    if not verify(key, grid_code, sig):
        return ["qr_bad_signature"]
    if routed_grid == grid_code:
        return []
    metres = (await conn.execute(sql("area_distance"), {"code": grid_code, "lon": lon, "lat": lat})).scalar()
    return ["qr_mismatch"] if metres is None or metres > MISMATCH_M else []


async def posters(conn, base_url: str, key: str, area_code: str) -> list[tuple[dict, str]]:
    """(grid, poster SVG) for a grid, or every grid under a community, street or district."""
    from api.sqlfiles import sql

    rows = [dict(r) for r in (await conn.execute(sql("grid_poster"), {"code": area_code})).mappings()]
    return [(g, poster_svg(report_url(base_url, key, g["code"]), g)) for g in rows]
