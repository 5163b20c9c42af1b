"""The printable A4 poster of a grid (浔安码): its name, place and people, the signed QR code of
its report page and short instructions in Chinese, as SVG (for the browser and print shops)
and PDF (for the office printer). One layout serves both formats."""

from __future__ import annotations

import io
from dataclasses import dataclass
from html import escape

from api import qr

# A4 in millimetres; the QR sits in the middle, 120 mm wide, its top at 100 mm.
WIDTH_MM, HEIGHT_MM, QR_MM, QR_TOP_MM = 210, 297, 120, 100
QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks
STEPS = ("1. 用手机扫描二维码，打开上报页面", "2. 允许定位，选择问题类别，描述并拍照",
         "3. 提交后保存查询码和查询链接（含密码），在任何手机上都能查看进度并评价")
PDF_FONT = "STSong-Light"  # a CID font every PDF reader has for Chinese: nothing to embed


def _names(value) -> list:
    return value if isinstance(value, list) else [value] if isinstance(value, str) else []


@dataclass(frozen=True)
class Line:
    y_mm: float
    size: float
    bold: bool
    text: str
    centred: bool = True


def layout(grid: dict) -> list[Line]:
    """The poster's text, top to bottom. ``grid``: code, name, community, street and attributes
    (the roster kept by the grid manager: leader, full_time and part_time workers)."""
    roster = grid.get("attributes") or {}
    workers = [str(w) for key in ("full_time", "part_time") for w in _names(roster.get(key)) if w]
    people = [f"网格长 {roster['leader']}"] if roster.get("leader") else []
    if workers:
        people.append("网格员 " + "、".join(workers))
    place = " ".join(str(grid.get(k) or "") for k in ("street", "community")).strip()
    lines = [Line(28, 16, True, "浔安码  扫码上报"), Line(42, 9, False, "Scan to report a problem in this grid"),
             Line(58, 11, True, place), Line(70, 13, True, str(grid.get("name") or ""))]
    lines += [Line(80 + 8 * i, 8, False, p) for i, p in enumerate(people)]
    top = QR_TOP_MM + QR_MM + 10
    lines += [Line(top + 9 * i, 7.5, False, s, centred=False) for i, s in enumerate(STEPS)]
    lines.append(Line(HEIGHT_MM - 16, 6, False, f"网格编码 {grid.get('code') or ''}"))
    return lines


def _svg_text(ln: Line) -> str:
    x, anchor = (WIDTH_MM / 2, ' text-anchor="middle"') if ln.centred else (30, "")
    weight = "bold" if ln.bold else "normal"
    return f'<text x="{x}" y="{ln.y_mm}" font-size="{ln.size}" font-weight="{weight}"{anchor}>{escape(ln.text)}</text>'


def svg(url: str, grid: dict) -> str:
    """The poster as an SVG document sized in millimetres (prints at A4 from a browser)."""
    return render_svg(url, layout(grid))


def render_svg(url: str, lines: list[Line]) -> str:
    """A poster of these lines around the QR code of ``url``, as SVG (any poster: grid or survey)."""
    code = qr.qr_code(url)
    modules = code.symbol_size(scale=1, border=QUIET_ZONE)[0]
    symbol = code.svg_inline(scale=QR_MM / modules, border=QUIET_ZONE, omitsize=False, dark="#000", light="#fff")
    text = "".join(_svg_text(ln) for ln in lines)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH_MM}mm" height="{HEIGHT_MM}mm" '
            f'viewBox="0 0 {WIDTH_MM} {HEIGHT_MM}" '
            f'font-family="Noto Sans CJK SC, Source Han Sans SC, WenQuanYi Micro Hei, Microsoft YaHei, sans-serif">'
            f'<rect width="{WIDTH_MM}" height="{HEIGHT_MM}" fill="#fff"/>'
            f'<rect x="8" y="8" width="{WIDTH_MM - 16}" height="{HEIGHT_MM - 16}" fill="none" stroke="#c8102e" '
            f'stroke-width="1.5"/>{text}<g transform="translate({(WIDTH_MM - QR_MM) / 2},{QR_TOP_MM})">{symbol}</g>'
            f"</svg>")


def pdf(url: str, grid: dict) -> bytes:
    """The same poster as a one-page A4 PDF (reportlab; the QR drawn as vector squares)."""
    return render_pdf(url, layout(grid), f"浔安码 {grid.get('name') or ''} {grid.get('code') or ''}".strip())


def render_pdf(url: str, lines: list[Line], title: str) -> bytes:
    """A poster of these lines around the QR code of ``url``, as a one-page A4 PDF."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4, invariant=1)  # invariant: the same poster gives the same bytes
    page.setTitle(title)
    height = A4[1]
    page.setStrokeColorRGB(0xC8 / 255, 0x10 / 255, 0x2E / 255)
    page.setLineWidth(1.5 * mm)
    page.rect(8 * mm, 8 * mm, (WIDTH_MM - 16) * mm, (HEIGHT_MM - 16) * mm)
    for ln in lines:
        page.setFont(PDF_FONT, ln.size * mm)  # the SVG's font sizes are in millimetres too
        y = height - ln.y_mm * mm
        if ln.centred:
            page.drawCentredString(WIDTH_MM / 2 * mm, y, ln.text)
        else:
            page.drawString(30 * mm, y, ln.text)
    matrix = qr.qr_code(url).matrix
    module = QR_MM * mm / (len(matrix) + 2 * QUIET_ZONE)
    left = (WIDTH_MM - QR_MM) / 2 * mm + QUIET_ZONE * module
    top = height - QR_TOP_MM * mm - QUIET_ZONE * module
    page.setFillColorRGB(0, 0, 0)
    path = page.beginPath()
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                path.rect(left + c * module, top - (r + 1) * module, module, module)
    page.drawPath(path, stroke=0, fill=1)
    page.showPage()
    page.save()
    return out.getvalue()


RENDERERS = {"svg": (svg, "image/svg+xml"), "pdf": (pdf, "application/pdf")}


async def of_area(conn, base_url: str, key: str, area_code: str, scope: list[str] | None = None,
                  *, only: bool = False) -> list[tuple[dict, str]]:
    """(grid, signed report URL) for a grid, or every grid under a community, street or district
    (``only``: the grid ``area_code`` itself, or nothing); ``scope``: the caller's map scope
    (None: everywhere, for the command line). ``key``: ``GRIDGOV_QR_KEY``, whose first key signs."""
    from api.sqlfiles import sql

    params = {"code": area_code, "scope": scope, "only": only}
    rows = await sql.fetchall(conn, "grid_poster", params)
    signing = qr.keys_of(key).current
    return [(g, qr.report_url(base_url, signing, g["code"])) for g in rows]
