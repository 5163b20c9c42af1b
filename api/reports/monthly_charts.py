"""The monthly report's pictures as PNG bytes (matplotlib, no display): the map of the areas one
level down by on-time closure, the twelve months' trends and the top categories. The same PNGs go
into the HTML (data URIs) and the PDF; Chinese labels use WenQuanYi Micro Hei when installed."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib import colormaps, font_manager, pyplot as plt  # noqa: E402
from matplotlib.colors import Normalize, to_hex  # noqa: E402
from matplotlib.patches import Polygon  # noqa: E402

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")  # fonts-wqy-microhei (the Makefile installs it)
CMAP = colormaps["RdYlGn"]
NORM = Normalize(vmin=0.5, vmax=1.0)  # on-time closure: red at 50% and below, green at 100%
NO_DATA = "#d9d9d9"
_font_ready = False


def _fonts() -> None:
    global _font_ready
    if _font_ready:
        return
    if CJK_FONT.is_file():
        font_manager.fontManager.addfont(str(CJK_FONT))
        name = font_manager.FontProperties(fname=str(CJK_FONT)).get_name()
        plt.rcParams["font.sans-serif"] = [name, "DejaVu Sans"]
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["axes.unicode_minus"] = False
    _font_ready = True


def colour(rate: float | None) -> str:
    """The map's colour of an on-time closure rate (grey: no case closed with a deadline)."""
    return NO_DATA if rate is None else to_hex(CMAP(NORM(rate)))


def _png(fig) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return out.getvalue()


def _rings(geometry: dict[str, Any]):
    polys = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    for poly in polys:
        if poly:
            yield poly[0]


def map_png(children: list[dict[str, Any]], title: str, labels: bool) -> bytes:
    """The areas filled by on-time closure rate, with a colour bar (a static map for the PDF)."""
    _fonts()
    fig, ax = plt.subplots(figsize=(7.5, 6))
    for c in children:
        for ring in _rings(c["geometry"]):
            ax.add_patch(Polygon(ring, closed=True, facecolor=colour(c["on_time_rate"]), edgecolor="#4a5560",
                                 linewidth=0.4 if not labels else 0.8))
        if labels and c["geometry"]["coordinates"]:
            ring = max(_rings(c["geometry"]), key=len)
            xs, ys = [p[0] for p in ring], [p[1] for p in ring]
            ax.text(sum(xs) / len(xs), sum(ys) / len(ys), c["name"], ha="center", va="center", fontsize=7)
    ax.autoscale_view()
    ax.set_aspect(1.15)
    ax.set_axis_off()
    ax.set_title(title)
    fig.colorbar(plt.cm.ScalarMappable(norm=NORM, cmap=CMAP), ax=ax, shrink=0.6,
                 format=lambda v, _: f"{v:.0%}")
    return _png(fig)


def trend_png(points: list[dict[str, Any]], title: str) -> bytes:
    """Bars of a count per month."""
    _fonts()
    fig, ax = plt.subplots(figsize=(7.5, 2.8))
    labels = [f"{p['period']:%Y-%m}" for p in points]
    ax.bar(labels, [p["value"] or 0 for p in points], color="#2171b5")
    ax.set_title(title)
    ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def rates_png(series: dict[str, list[dict[str, Any]]], names: dict[str, str], title: str) -> bytes:
    """Lines of rates per month (0–100%)."""
    _fonts()
    fig, ax = plt.subplots(figsize=(7.5, 2.8))
    for key, points in series.items():
        ax.plot([f"{p['period']:%Y-%m}" for p in points], [p["value"] for p in points], marker="o", label=names[key])
    ax.set_ylim(0, 1.05)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower left")
    ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def categories_png(rows: list[dict[str, Any]], names: list[str], title: str) -> bytes:
    """Horizontal bars of the top categories, the largest on top."""
    _fonts()
    fig, ax = plt.subplots(figsize=(7.5, 0.35 * max(len(rows), 3) + 0.8))
    ax.barh(list(reversed(names)), [r["received"] for r in reversed(rows)], color="#fd8d3c")
    for i, r in enumerate(reversed(rows)):
        ax.text(r["received"], i, f" {r['received']}", va="center", fontsize=8)
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)
