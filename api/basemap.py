"""Base maps: the presets a deployment turns on (README "Base maps"), what /config.json tells the
pages about them, the hosts the content-security policy lets images come from, the local MBTiles
file, and the offline base drawn from the project's own outlines (public: names and outlines only)."""

from __future__ import annotations

import math
import sqlite3
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from psycopg import AsyncConnection

from api.errors import Invalid, NotFound
from api.settings import Settings

TIANDITU = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
            "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=")
AMAP = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
MAX_ZOOM = 22
# the offline base: which kinds from which zoom (grids only at street zoom), workstations from 13
KINDS_FROM_ZOOM = (("district", 0), ("street", 0), ("community", 12), ("grid", 15))
STATIONS_FROM_ZOOM = 13
MAX_TILES_ACROSS = 48  # a bbox at most this many tiles of its zoom wide and high


def layers(settings: Settings) -> list[dict]:
    """The tile layers of the configured preset, bottom first (none for ``offline``)."""
    kind = settings.basemap
    attribution = settings.basemap_attribution
    if kind == "tianditu":
        key = settings.tianditu_key or ""
        return [{"url": TIANDITU.replace("{layer}", layer) + key, "subdomains": "01234567", "max_zoom": 18,
                 "attribution": attribution or "天地图 © 国家地理信息公共服务平台"} for layer in ("vec", "cva")]
    if kind == "amap":
        return [{"url": AMAP, "subdomains": "1234", "max_zoom": 18,
                 "attribution": attribution or "© 高德地图 AutoNavi"}]
    if kind == "xyz":
        return [{"url": settings.basemap_url, "subdomains": "abc", "max_zoom": 19, "attribution": attribution}]
    if kind == "mbtiles":
        meta = mbtiles_metadata(str(settings.basemap_file))
        return [{"url": "/basemap/{z}/{x}/{y}", "subdomains": "", "max_zoom": meta["maxzoom"],
                 "min_zoom": meta["minzoom"], "bounds": meta["bounds"],
                 "attribution": attribution or meta.get("attribution", "")}]
    return []


def shift(settings: Settings) -> str | None:
    """``gcj02`` when the base tiles are drawn in GCJ-02 (the pages shift WGS-84 data onto them)."""
    if settings.basemap == "amap" or (settings.basemap == "xyz" and settings.basemap_crs == "gcj02"):
        return "gcj02"
    return None  # offline and MBTiles in WGS-84 / Web Mercator; Tianditu in CGCS2000 (within centimetres)


def image_sources(settings: Settings) -> list[str]:
    """CSP img-src entries for the preset's tile hosts, each as it is (``t0`` to ``t7`` of
    Tianditu, not ``*.``): its ``{s}`` replaced by each of the layer's subdomains (``'self'``
    already covers MBTiles)."""
    return sorted({s for url in urls_for_csp(settings) if (s := host_source(url)) is not None})


def urls_for_csp(settings: Settings) -> list[str]:
    if settings.basemap == "mbtiles":
        return []
    try:
        found = layers(settings)
    except Exception:  # noqa: BLE001 - never fail a header on a preset; /config.json names the problem
        return []
    return [layer["url"].replace("{s}", s) if "{s}" in layer["url"] else layer["url"]
            for layer in found for s in (layer.get("subdomains") or "-")]


def host_source(url: str) -> str | None:
    """A CSP host source that Chromium accepts for a tile URL template: ``scheme://host[:port]``,
    a placeholder in the host's first label (``t{s}.``, ``webrd0{s}.``) as a leading ``*.``;
    None for a relative URL or one with a placeholder elsewhere in the host."""
    parts = urlsplit(url.replace("{s}", "S").replace("{z}", "Z").replace("{x}", "X").replace("{y}", "Y"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = urlsplit(url).netloc.rsplit("@", 1)[-1]
    first, _, rest = host.partition(".")
    if "{" in rest or "}" in rest:
        return None
    if "{" in first or "}" in first:
        if not rest:
            return None
        host = "*." + rest
    return f"{parts.scheme}://{host.lower()}"


def check(settings: Settings) -> None:
    """Refuses at start a preset whose URL no CSP could allow (the pages would draw nothing)."""
    if settings.basemap == "xyz" and settings.basemap_url and not settings.basemap_url.startswith("/"):
        if host_source(settings.basemap_url) is None:
            raise ValueError("GRIDGOV_BASEMAP_URL: an http(s) URL whose host has placeholders only in its "
                             f"first label, got {settings.basemap_url!r}")
    if settings.basemap == "mbtiles":
        mbtiles_metadata(str(settings.basemap_file))


# ---------------------------------------------------------------- MBTiles

@lru_cache(maxsize=4)
def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True, check_same_thread=False)
    return conn


@lru_cache(maxsize=4)
def mbtiles_metadata(path: str) -> dict:
    """The file's metadata table (name, format, minzoom, maxzoom, attribution); ValueError when the
    file is missing or is no MBTiles."""
    if not Path(path).is_file():
        raise ValueError(f"GRIDGOV_BASEMAP_FILE: no such file {path}")
    try:
        rows = dict(_connect(path).execute("SELECT name, value FROM metadata").fetchall())
        zooms = _connect(path).execute("SELECT min(zoom_level), max(zoom_level) FROM tiles").fetchone()
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"GRIDGOV_BASEMAP_FILE: {path} is not an MBTiles file ({exc})") from None
    fmt = rows.get("format", "png")
    if fmt not in ("png", "jpg", "jpeg", "webp"):
        raise ValueError(f"GRIDGOV_BASEMAP_FILE: raster tiles (png, jpg, webp) only, {path} has {fmt}")
    try:  # tiles are asked for only inside the file's bounds (else every tile around them is a 404)
        bounds = [float(v) for v in rows["bounds"].split(",")] if rows.get("bounds") else None
    except ValueError:
        bounds = None
    return {**rows, "format": fmt, "bounds": bounds if bounds and len(bounds) == 4 else None,
            "minzoom": int(rows.get("minzoom", zooms[0] or 0)),
            "maxzoom": int(rows.get("maxzoom", zooms[1] or MAX_ZOOM))}


MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}


def mbtiles_tile(settings: Settings, z: int, x: int, y: int) -> tuple[bytes, str]:
    """One tile of the local file (XYZ addressing; MBTiles rows count from the south: TMS)."""
    if settings.basemap != "mbtiles" or settings.basemap_file is None:
        raise NotFound("no local base-map file is configured (GRIDGOV_BASEMAP=mbtiles)", field="basemap")
    if x >= 2 ** z or y >= 2 ** z:
        raise Invalid(f"x and y must be below 2^z = {2 ** z}", field="x" if x >= 2 ** z else "y")
    path = str(settings.basemap_file)
    row = _connect(path).execute(
        "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
        (z, x, (2 ** z - 1) - y)).fetchone()
    if row is None:
        raise NotFound(f"no tile {z}/{x}/{y} in the base-map file", field="tile")
    return bytes(row[0]), MEDIA_TYPES[mbtiles_metadata(path)["format"]]


# ---------------------------------------------------------------- the offline base

async def outlines(conn: AsyncConnection, zoom: int, bbox: dict) -> dict:
    """Outlines and names for the offline base at ``zoom`` within ``bbox`` (no incident, ever)."""
    from spatial.sqlfiles import sql as spatial_sql

    if bbox.get("xmin") is None:
        raise Invalid("bbox is required: xmin,ymin,xmax,ymax", field="bbox")
    tile = 360.0 / 2 ** zoom
    if bbox["xmax"] - bbox["xmin"] > MAX_TILES_ACROSS * tile or bbox["ymax"] - bbox["ymin"] > MAX_TILES_ACROSS * tile:
        raise Invalid(f"at most {MAX_TILES_ACROSS} tiles of zoom {zoom} wide and high", field="bbox")
    kinds = [kind for kind, start in KINDS_FROM_ZOOM if zoom >= start]
    tolerance = 0.5 * tile / 256 * math.cos(math.radians(max(min(bbox["ymin"], 85.0), -85.0)))
    return await spatial_sql.scalar(conn, "base_outlines", {
        **bbox, "kinds": kinds, "tolerance": tolerance, "stations": zoom >= STATIONS_FROM_ZOOM})


async def district_extent(conn: AsyncConnection) -> list[float] | None:
    from spatial.sqlfiles import sql as spatial_sql

    row = await spatial_sql.fetchone(conn, "district_extent")
    if row is None or row["xmin"] is None:
        return None
    return [round(v, 6) for v in (row["xmin"], row["ymin"], row["xmax"], row["ymax"])]
