"""The web pages (static files from web/, libraries from web/node_modules) and local API docs."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from api import basemap, i18n
from api.auth.deps import PublicUnlimited
from api.db import ConnDep
from api.schemas import Catalogues
from api.settings import PROJECT_ROOT

router = APIRouter(tags=["pages"], include_in_schema=False)
WEB = PROJECT_ROOT / "web"


class TileSource(BaseModel):
    url: str
    subdomains: str
    max_zoom: int
    min_zoom: int = 0
    bounds: list[float] | None = Field(default=None, description="[xmin, ymin, xmax, ymax]: no tiles outside")
    attribution: str


class PageConfig(BaseModel):
    basemap: str = Field(description="the preset: offline, tianditu, amap, xyz or mbtiles")
    tiles: list[TileSource] = Field(description="tile layers under the offline base, bottom first (none: offline)")
    shift: Literal["gcj02"] | None = Field(description="gcj02: the tiles are in GCJ-02, the pages shift WGS-84 data")
    extent: list[float] | None = Field(description="[xmin, ymin, xmax, ymax] of the districts (WGS-84)")
    basemap_url: str | None = Field(description="the first tile layer's URL (older pages)")
    basemap_attribution: str


@router.get("/")
async def map_page(who: PublicUnlimited):
    return FileResponse(WEB / "index.html", media_type="text/html; charset=utf-8")


@router.get("/desk")
async def desk_page(who: PublicUnlimited):
    """The dispatcher's queue and case view (the page logs in itself)."""
    return FileResponse(WEB / "desk.html", media_type="text/html; charset=utf-8")


@router.get("/console")
async def console_page(who: PublicUnlimited):
    """The command room's big screen: live map and queue, heatmaps, early warnings (the page logs in itself)."""
    return FileResponse(WEB / "console.html", media_type="text/html; charset=utf-8")


@router.get("/dashboard")
async def dashboard_page(who: PublicUnlimited):
    """The leaders' big screen (大屏): KPI tiles with trends, a choropleth, top categories and
    response times, every figure down to its cases (the page logs in itself; READ_KPIS)."""
    return FileResponse(WEB / "dashboard.html", media_type="text/html; charset=utf-8")


@router.get("/editor")
async def editor_page(who: PublicUnlimited):
    """The grid manager's editor: split, merge, redraw, roster, history (the page logs in itself)."""
    return FileResponse(WEB / "editor.html", media_type="text/html; charset=utf-8")


@router.get("/unit")
async def unit_page(who: PublicUnlimited):
    """The officer's phone page: my tasks, accept, on scene, report back, position."""
    return FileResponse(WEB / "unit.html", media_type="text/html; charset=utf-8")


@router.get("/patrol")
async def patrol_page(who: PublicUnlimited):
    """The grid worker's patrol on the phone (巡查), and the supervisors' patrols (the page logs in itself)."""
    return FileResponse(WEB / "patrol.html", media_type="text/html; charset=utf-8")


@router.get("/report")
async def report_page(who: PublicUnlimited):
    """The resident's report page (phone first, no login; works offline once loaded)."""
    return FileResponse(WEB / "report.html", media_type="text/html; charset=utf-8")


@router.get("/survey")
async def survey_page(who: PublicUnlimited):
    """A street's satisfaction survey on a phone (满意度测评; the signed link of its poster, no login)."""
    return FileResponse(WEB / "survey.html", media_type="text/html; charset=utf-8")


@router.get("/public")
async def public_page(who: PublicUnlimited):
    """The public disclosure (公示): each street's figures, survey scores and follow-ups (no login)."""
    return FileResponse(WEB / "public.html", media_type="text/html; charset=utf-8")


@router.get("/track/{code}")
async def track_page(code: str, who: PublicUnlimited):
    """Follow a report and rate it (the secret is kept by the phone that reported)."""
    return FileResponse(WEB / "track.html", media_type="text/html; charset=utf-8")


@router.get("/handover/{incident_id}")
async def handover_page(incident_id: Annotated[int, Path(ge=1, le=2**63 - 1)], who: PublicUnlimited):
    """The printable hand-over sheet (交办单) of a case, as a page of the app: it reads the sheet
    with the desk's session (opened from the desk) and prints with its own stylesheet."""
    return FileResponse(WEB / "handover.html", media_type="text/html; charset=utf-8")


@router.get("/admin/calendar")
async def calendar_page(who: PublicUnlimited):
    """The administrator's working calendar: official and provisional years, loading a schedule
    (the page logs in itself; the API behind it is for administrators)."""
    return FileResponse(WEB / "calendar.html", media_type="text/html; charset=utf-8")


@router.get("/sw.js")
async def service_worker(who: PublicUnlimited):
    """The report page's service worker (at the root so that it may serve /report offline)."""
    return FileResponse(WEB / "static" / "sw.js", media_type="text/javascript; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})


@router.get("/config.json", response_model=PageConfig)
async def page_config(request: Request, who: PublicUnlimited, conn: ConnDep):
    """What the pages need to know to make a map: the base-map preset and its tile layers (the
    offline base of the project's own outlines is always drawn), whether to shift WGS-84 data into
    GCJ-02, and the districts' extent to open on (from the database, never from the pages)."""
    settings = request.app.state.settings
    tiles = basemap.layers(settings)
    return {"basemap": settings.basemap, "tiles": tiles, "shift": basemap.shift(settings),
            "extent": await basemap.district_extent(conn),
            "basemap_url": tiles[0]["url"] if tiles else None,
            "basemap_attribution": tiles[0]["attribution"] if tiles else ""}


@router.get("/i18n.json", response_model=Catalogues)
async def catalogues(request: Request, who: PublicUnlimited):
    """The translation catalogues of the pages (web/static/i18n/<lang>.json), all in one document:
    ``{"languages": ["zh", "en", ...], "catalogues": {"zh": {key: text}, ...}}``."""
    body, etag = i18n.bundle()
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get("/docs")
async def api_docs(who: PublicUnlimited):
    """Swagger UI served from web/node_modules (no CDN)."""
    return get_swagger_ui_html(openapi_url="/openapi.json", title="gridgov API",
                               swagger_js_url="/vendor/swagger-ui/swagger-ui-bundle.js",
                               swagger_css_url="/vendor/swagger-ui/swagger-ui.css",
                               swagger_favicon_url="/vendor/leaflet/images/marker-icon.png")
