"""The printable QR poster of a grid (浔安码), as SVG or PDF."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from api import posters
from api.auth.deps import MapReader
from api.db import ConnDep
from api.errors import NotFound
from api.layers import map_scope
from api.public_address import public_base

router = APIRouter(tags=["catalog"])


@router.get("/api/areas/{code}/poster.{fmt}", response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}, "application/pdf": {}}}})
async def grid_poster(code: Annotated[str, Path(max_length=64, pattern=r"^[0-9A-Za-z_-]+$")],
                      fmt: Annotated[Literal["svg", "pdf"], Path(description="svg or pdf")],
                      request: Request, who: MapReader, conn: ConnDep):
    """The A4 poster of a grid: its name, place and people, and the signed QR code of its report page."""
    settings = request.app.state.settings
    found = await posters.of_area(conn, public_base(settings, request), settings.qr_key, code, scope=map_scope(who),
                                  only=True)
    if not found:
        raise NotFound(f"grid {code} not found", field="code")
    (grid, url), (render, media_type) = found[0], posters.RENDERERS[fmt]
    return Response(render(url, grid), media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="poster-{code}.{fmt}"'})
