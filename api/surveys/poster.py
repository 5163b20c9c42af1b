"""A street's survey poster: the signed link to its survey page as a QR code, on the same A4
layout as the grids' posters (``api.posters``), signed under the same QR key (``api.qr``: after
``gridgov secrets rotate qr`` old survey posters are accepted until the overlap ends)."""

from __future__ import annotations

from urllib.parse import urlencode

from api import qr
from api.posters import HEIGHT_MM, QR_MM, QR_TOP_MM, Line, render_pdf, render_svg
from api.surveys.answers import link_code

STEPS = ("1. 用手机扫描二维码，打开测评页面", "2. 为每项指标打1至5分，不了解的可不答",
         "3. 匿名作答：不收集姓名、电话和位置", "4. 每部手机每期一份答卷，再答会替换上次")


def survey_url(base_url: str, key_setting: str, street_code: str) -> str:
    """``https://…/survey?s=<street>&sig=<signature>`` signed with the current QR key."""
    key = qr.keys_of(key_setting).current
    sig = qr.signature(key, link_code(street_code))
    return f"{base_url.rstrip('/')}/survey?{urlencode({'s': street_code, 'sig': sig})}"


def layout(street: dict) -> list[Line]:
    lines = [Line(28, 16, True, "街道工作居民满意度测评"), Line(42, 9, False, "Residents' satisfaction survey"),
             Line(62, 13, True, str(street.get("name") or "")), Line(74, 8, False, str(street.get("name_en") or ""))]
    top = QR_TOP_MM + QR_MM + 10
    lines += [Line(top + 9 * i, 7.5, False, s, centred=False) for i, s in enumerate(STEPS)]
    lines.append(Line(HEIGHT_MM - 16, 6, False, f"街道编码 {street.get('code') or ''}"))
    return lines


def render(fmt: str, url: str, street: dict) -> bytes:
    if fmt == "svg":
        return render_svg(url, layout(street)).encode()
    return render_pdf(url, layout(street), f"满意度测评 {street.get('name') or ''} {street.get('code') or ''}".strip())
