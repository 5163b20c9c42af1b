"""Units report their position and status (officers' phones, dispatchers)."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request

from api import units
from api.auth.deps import UnitReporter
from api.db import ConnDep
from api.schemas import PositionIn, UnitPosition

router = APIRouter(prefix="/api/units", tags=["units"])


@router.post("/{code}/position", response_model=UnitPosition)
async def report_position(body: PositionIn, request: Request, who: UnitReporter, conn: ConnDep,
                          code: str = Path(max_length=32, description="unit code")):
    """A GPS fix (and optionally a status) for one unit: an officer's own, a dispatcher's in scope.

    Fixes far outside every district (over 50 km by default) are refused.
    """
    settings = request.app.state.settings
    return await units.report_position(conn, who, code, body, settings.unit_position_margin_m)
