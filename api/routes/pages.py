"""The web pages (static files from web/, libraries from web/node_modules)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from api.settings import PROJECT_ROOT

router = APIRouter(tags=["pages"], include_in_schema=False)
WEB = PROJECT_ROOT / "web"


@router.get("/")
async def map_page():
    return FileResponse(WEB / "index.html", media_type="text/html; charset=utf-8")


@router.get("/config.json")
async def page_config(request: Request) -> dict:
    """What the pages need to know: optional base-map tiles (none = offline)."""
    return {"basemap_url": request.app.state.settings.basemap_url}
