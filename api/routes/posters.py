"""The printable QR poster of a grid (浔安码)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from api import qr
from api.auth.deps import MapReader
from api.db import ConnDep
from api.errors import NotFound

router = APIRouter(tags=["catalog"])


def public_url(settings) -> str:
    return settings.public_url or f"http://{settings.host}:{settings.port}"


@router.get("/api/areas/{code}/poster.svg", response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}}}})
async def grid_poster(code: Annotated[str, Path(max_length=64, pattern=r"^[0-9A-Za-z_-]+$")], conn: ConnDep,
                      request: Request, who: MapReader):
    """The A4 poster of a grid: its name, place and people, and the signed QR code of its report page."""
    settings = request.app.state.settings
    found = [p for g, p in await qr.posters(conn, public_url(settings), settings.qr_key, code) if g["code"] == code]
    if not found:
        raise NotFound(f"grid {code} not found", field="code")
    return Response(found[0], media_type="image/svg+xml",
                    headers={"Content-Disposition": f'attachment; filename="poster-{code}.svg"'})
