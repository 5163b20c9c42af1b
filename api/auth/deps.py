"""Typed dependency aliases for routes (FastAPI full-stack template habit)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.auth.access import Access
from api.auth.principal import Principal

Public = Annotated[Principal, Depends(Access(public=True))]
PublicUnlimited = Annotated[Principal, Depends(Access(public=True, rate_limited=False))]
AnyStaff = Annotated[Principal, Depends(Access("dispatcher", "grid_manager", "grid_worker", "officer", "analyst"))]
MapReader = Annotated[Principal, Depends(Access("dispatcher", "grid_manager", "grid_worker", "analyst", "officer"))]
IncidentReader = Annotated[Principal, Depends(Access("dispatcher", "grid_manager", "grid_worker", "analyst", "officer"))]
Router = Annotated[Principal, Depends(Access("dispatcher", "grid_manager", "grid_worker"))]
UnitReader = Annotated[Principal, Depends(Access("dispatcher", "officer"))]
UnitReporter = Annotated[Principal, Depends(Access("dispatcher", "officer"))]
AdminOnly = Annotated[Principal, Depends(Access("admin"))]
