"""For the proxy and the operator: does the process answer (``/healthz``), and can it serve
(``/readyz``: the database answers and this worker hears its notifications)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.auth.deps import PublicUnlimited
from api.db import answers, pool_of
from api.live.hub import listening

router = APIRouter(tags=["operations"])
READY_TIMEOUT_S = 2.0


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    database: bool
    listener: bool


@router.get("/healthz", response_model=Health)
async def healthz(who: PublicUnlimited):
    """The process answers (a liveness probe: it touches nothing else)."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(request: Request, who: PublicUnlimited):
    """Ready when the database answers within 2 s and this worker's LISTEN connection is up
    (its caches follow the other workers' changes); 503 naming what is down otherwise."""
    database = await answers(pool_of(request.app), READY_TIMEOUT_S)
    listener = listening(request.app)
    ready = database and listener
    return JSONResponse({"status": "ready" if ready else "not_ready", "database": database, "listener": listener},
                        status_code=200 if ready else 503)
