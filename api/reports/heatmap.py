"""The offline heatmap report (``gridgov report heatmap``): one standalone HTML page of H3
hexagons counting the reports of a window, optionally under one area, drawn by folium."""

from __future__ import annotations

from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

import folium
from folium.plugins import HeatMap
from psycopg import AsyncConnection

from api import i18n
from api.reports import offline
from spatial import heat
from spatial.sqlfiles import sql

RAMP = ["#fff5eb", "#fdd0a2", "#fd8d3c", "#e6550d", "#a63603"]


def _colour(n: int, top: int) -> str:
    return RAMP[min(len(RAMP) - 1, int(n / top * len(RAMP)))] if top else RAMP[0]


async def build(conn: AsyncConnection, *, start: datetime, stop: datetime, area: str | None,
                resolution: int = 8, category: list[str] | None = None,
                timezone: str = "Asia/Shanghai", lang: str | None = None) -> tuple[str, dict]:
    """(HTML page, summary) of the window [start, stop) under ``area`` (None: everything); its
    words in ``lang`` from the translation catalogues (Chinese by default)."""
    lang = lang if lang in i18n.languages() else i18n.default_lang()
    rows = await sql.fetchall(conn, "heat_cells", {
        "start": start, "stop": stop, "categories": category, "statuses": None, "tiers": None, "sources": None,
        "everywhere": area is None, "scope": [area] if area else [], "resolution": resolution})
    counts = heat.aggregate([(r["cell"], r["n"]) for r in rows], resolution)
    doc = heat.feature_collection(counts, resolution)
    outline = (await sql.scalar(conn, "area_outline", {"code": area})) if area else None

    m = folium.Map(tiles=None, zoom_control=True, prefer_canvas=False)
    offline.localise(m)
    if outline:
        folium.GeoJson(outline, name="area", style_function=lambda f: {
            "color": "#2c4a78", "weight": 2, "fill": False}).add_to(m)
    top = doc["max"]
    if counts:  # folium's tooltip needs a feature to take its field from
        folium.GeoJson(doc, name="hexagons", style_function=lambda f: {
            "color": "#7f2704", "weight": 0.5, "fillOpacity": 0.75,
            "fillColor": _colour(f["properties"]["count"], top)},
            tooltip=folium.GeoJsonTooltip(fields=["count"], aliases=[i18n.t("report.heat.reports", lang)])).add_to(m)
        centres = [(*heat.centre(c), n) for c, n in counts.items()]
        layer = HeatMap([[lat, lon, n / top] for lat, lon, n in centres], name="density", show=False, radius=18)
        offline.localise(layer)
        layer.add_to(m)
        lats, lons = [c[0] for c in centres], [c[1] for c in centres]
        m.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]])
    folium.LayerControl(collapsed=False).add_to(m)
    zone = ZoneInfo(timezone)
    window = f"{start.astimezone(zone):%Y-%m-%d %H:%M} – {stop.astimezone(zone):%Y-%m-%d %H:%M} ({timezone})"
    title = escape(i18n.t("report.heat.title", lang, window=window)) + (f" · {escape(area)}" if area else "") \
        + " · " + escape(i18n.t("report.heat.total", lang, n=doc["total"]))
    legend = "".join(f'<span style="display:inline-block;width:14px;height:10px;background:{c};'
                     f'border:1px solid #c9b49d;margin:0 2px 0 8px"></span>{round((i + 1) / len(RAMP) * top)}'
                     for i, c in enumerate(RAMP))
    m.get_root().html.add_child(folium.Element(
        f'<div id="gridgov-report-title" style="position:fixed;top:10px;left:60px;z-index:1000;background:#fff;'
        f'padding:6px 10px;border-radius:6px;font:14px sans-serif;box-shadow:0 1px 6px rgba(0,0,0,.25)">'
        f"<b>{title}</b><br>{legend}</div>"))
    html = offline.inline(m.get_root().render()).replace("<html>", f"<html lang=\"{i18n.t('lang.tag', lang)}\">", 1)
    return html, {"hexagons": len(counts), "total": doc["total"], "max": top, "resolution": resolution}
