"""The monthly report of an area (``gridgov report monthly``, ``/api/reports/monthly.html|pdf``):
one offline HTML page (a folium choropleth with the app's own Leaflet inlined, the KPI table, the
trends and top categories as PNG data URIs) and the same content as an A4 PDF (reportlab; the map
as a static picture). The data: :func:`api.reports.monthly_data.gather`."""

from __future__ import annotations

import base64
import io
import threading
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

import folium

from api import clock, i18n
from api.reports import monthly_charts as charts, offline

PDF_TYPE = "application/pdf"
_PLOTTING = threading.Lock()
HTML_TYPE = "text/html; charset=utf-8"


def file_name(area: str, month: str, ext: str) -> str:
    return f"report-{area}-{month}.{ext}"


def _lang(lang: str | None) -> str:
    return lang if lang in i18n.languages() else i18n.default_lang()


def _name(rec: dict[str, Any], lang: str) -> str:
    return str(rec.get(f"name_{lang}") or rec.get("name") or rec.get("code") or "") if lang != "zh" \
        else str(rec.get("name") or rec.get("code") or "")


def shown(f: dict[str, Any]) -> str:
    """A KPI's value as the report prints it."""
    v = f.get("value")
    if v is None:
        return "—"
    if f["kind"] == "rate":
        return f"{v * 100:.1f}%"
    if f["kind"] == "duration":
        return f"{v / 60:.1f} min" if f["key"] == "response_time" else f"{v / 3600:.1f} h"
    return str(int(v))


def pictures(data: dict[str, Any], lang: str) -> dict[str, bytes]:
    """The report's PNGs: map, trend of cases received, trend of rates, top categories (one
    report's at a time: pyplot's state is the process's; the API calls this in a worker thread)."""
    with _PLOTTING:
        return _pictures(data, lang)


def _pictures(data: dict[str, Any], lang: str) -> dict[str, bytes]:
    t = i18n.t
    level = t(f"report.monthly.level.{data['level']}", lang)
    names = {f["key"]: (f["name_zh"] if lang == "zh" else f["name_en"]) for f in data["kpis"]}
    return {
        "map": charts.map_png(data["children"], t("report.monthly.map", lang, level=level),
                              labels=data["level"] == "street"),
        "received": charts.trend_png(data["trends"]["received"], t("report.monthly.trend_received", lang)),
        "rates": charts.rates_png({k: data["trends"][k] for k in ("closure_rate", "on_time_rate")}, names,
                                  t("report.monthly.trend_rates", lang)),
        "categories": charts.categories_png(data["categories"], [_name(c, lang) for c in data["categories"]],
                                            t("report.monthly.categories", lang)),
    }


def title(data: dict[str, Any], lang: str) -> str:
    text = i18n.t("report.monthly.title", lang, area=_name(data["area"], lang), month=data["month"])
    return text + ("" if data["complete"] else i18n.t("report.monthly.sofar", lang))


def _generated(lang: str, timezone: str) -> str:
    return i18n.t("report.monthly.generated", lang,
                  at=f"{clock.now().astimezone(ZoneInfo(timezone)):%Y-%m-%d %H:%M} ({timezone})")


def _folium_map(data: dict[str, Any], lang: str) -> str:
    """The choropleth as a self-contained page (Leaflet inlined from web/node_modules), no tiles."""
    m = folium.Map(tiles=None, zoom_control=True, prefer_canvas=False)
    offline.localise(m)
    features = [{"type": "Feature", "geometry": c["geometry"],
                 "properties": {"name": _name(c, lang), "value": shown({"kind": "rate", "key": "on_time_rate",
                                                                         "value": c["on_time_rate"]}),
                                "fill": charts.colour(c["on_time_rate"])}}
                for c in data["children"] if c["geometry"]]
    if features:
        layer = folium.GeoJson({"type": "FeatureCollection", "features": features}, name="areas",
                               style_function=lambda f: {"color": "#4a5560", "weight": 1, "fillOpacity": 0.8,
                                                         "fillColor": f["properties"]["fill"]},
                               tooltip=folium.GeoJsonTooltip(fields=["name", "value"], labels=False))
        layer.add_to(m)
        m.fit_bounds(layer.get_bounds())
    return offline.inline(m.get_root().render())


def _legend() -> str:
    steps = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    return "".join(f'<span style="display:inline-block;width:14px;height:10px;margin:0 3px 0 10px;'
                   f'background:{charts.colour(v)}"></span>{v:.0%}' for v in steps) + \
        f'<span style="display:inline-block;width:14px;height:10px;margin:0 3px 0 10px;' \
        f'background:{charts.NO_DATA}"></span>—'


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _kpi_rows(data: dict[str, Any], lang: str) -> list[tuple[str, str, str, str]]:
    return [((f["name_zh"] if lang == "zh" else f["name_en"]), shown(f),
             "" if f["numerator"] is None or f["kind"] != "rate" else str(f["numerator"]),
             str(f["denominator"]) if f["kind"] != "count" else "") for f in data["kpis"]]


def html(data: dict[str, Any], pngs: dict[str, bytes], lang: str | None = None,
         timezone: str = "Asia/Shanghai") -> str:
    """The report as one HTML file that opens with no network."""
    lang = _lang(lang)
    t = i18n.t
    head = (f"<tr><th>{escape(t('report.monthly.kpi', lang))}</th><th>{escape(t('report.monthly.value', lang))}</th>"
            f"<th>{escape(t('report.monthly.numerator', lang))}</th>"
            f"<th>{escape(t('report.monthly.denominator', lang))}</th></tr>")
    rows = "".join(f'<tr data-kpi="{escape(f["key"])}"><td>{escape(a)}</td><td class="v">{escape(b)}</td>'
                   f"<td>{escape(c)}</td><td>{escape(d)}</td></tr>"
                   for f, (a, b, c, d) in zip(data["kpis"], _kpi_rows(data, lang), strict=True))
    level = t(f"report.monthly.level.{data['level']}", lang)
    imgs = "".join(f'<p><img alt="{escape(k)}" src="{_data_uri(pngs[k])}"></p>'
                   for k in ("received", "rates", "categories"))
    return f"""<!doctype html>
<html lang="{escape(t('lang.tag', lang))}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title(data, lang))}</title>
<style>
body {{ font-family: "Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei", sans-serif; margin: 0 auto;
  max-width: 960px; padding: 12px 16px 40px; color: #222; }}
table {{ border-collapse: collapse; width: 100%; font-size: 14px; }}
th, td {{ border-bottom: 1px solid #e3e7ec; padding: 5px 8px; text-align: left; }}
td.v {{ font-weight: bold; }}
iframe {{ width: 100%; height: 480px; border: 1px solid #d8dee6; border-radius: 6px; }}
img {{ max-width: 100%; }}
.muted {{ color: #666; font-size: 12px; }}
</style></head>
<body>
<h1 id="report-title">{escape(title(data, lang))}</h1>
<p class="muted">{escape(_generated(lang, timezone))} · {escape(data['area']['code'])}</p>
<h2>{escape(t('report.monthly.kpis', lang))}</h2>
<table id="report-kpis">{head}{rows}</table>
<h2>{escape(t('report.monthly.map', lang, level=level))}</h2>
<iframe id="report-map" title="map" srcdoc="{escape(_folium_map(data, lang))}"></iframe>
<p class="muted">{_legend()}</p>
<h2>{escape(t('report.monthly.trend', lang))}</h2>
{imgs}
</body></html>
"""


# ---------------------------------------------------------------- PDF

def _pdf_font() -> str:
    """The CJK font of the PDF: WenQuanYi Micro Hei embedded when installed, else the CID font
    every reader has (api.posters)."""
    from reportlab.pdfbase import pdfmetrics

    if charts.CJK_FONT.is_file():
        if "WQYMicroHei" not in pdfmetrics.getRegisteredFontNames():
            from reportlab.pdfbase.ttfonts import TTFont

            pdfmetrics.registerFont(TTFont("WQYMicroHei", str(charts.CJK_FONT), subfontIndex=0))
        return "WQYMicroHei"
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    from api.posters import PDF_FONT

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    return PDF_FONT


def pdf(data: dict[str, Any], pngs: dict[str, bytes], lang: str | None = None,
        timezone: str = "Asia/Shanghai") -> bytes:
    """The same content as an A4 PDF (the map as a static picture)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    lang = _lang(lang)
    t = i18n.t
    font = _pdf_font()
    h1 = ParagraphStyle("h1", fontName=font, fontSize=16, leading=22, spaceAfter=4)
    h2 = ParagraphStyle("h2", fontName=font, fontSize=12, leading=17, spaceBefore=6, spaceAfter=4)
    small = ParagraphStyle("small", fontName=font, fontSize=8, leading=11, textColor=colors.grey)
    cell = ParagraphStyle("cell", fontName=font, fontSize=8.5, leading=11)

    def img(png: bytes, width_mm: float) -> Image:
        from PIL import Image as PILImage

        w, h = PILImage.open(io.BytesIO(png)).size
        return Image(io.BytesIO(png), width=width_mm * mm, height=width_mm * mm * h / w)

    level = t(f"report.monthly.level.{data['level']}", lang)
    head = [t("report.monthly.kpi", lang), t("report.monthly.value", lang), t("report.monthly.numerator", lang),
            t("report.monthly.denominator", lang)]
    table = Table([[Paragraph(escape(x), cell) for x in head]]
                  + [[Paragraph(escape(x), cell) for x in row] for row in _kpi_rows(data, lang)],
                  colWidths=[78 * mm, 32 * mm, 30 * mm, 30 * mm], repeatRows=1)
    table.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.3, colors.HexColor("#cccccc")),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5"))]))
    story = [Paragraph(escape(title(data, lang)), h1),
             Paragraph(escape(f"{_generated(lang, timezone)} · {data['area']['code']}"), small),
             Paragraph(escape(t("report.monthly.kpis", lang)), h2), table, PageBreak(),
             Paragraph(escape(t("report.monthly.map", lang, level=level)), h2), img(pngs["map"], 165),
             PageBreak(), Paragraph(escape(t("report.monthly.trend", lang)), h2), img(pngs["received"], 170),
             Spacer(1, 4 * mm), img(pngs["rates"], 170), Spacer(1, 4 * mm), img(pngs["categories"], 170)]
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=title(data, lang), author="gridgov")
    doc.build(story)
    return out.getvalue()
