"""Administration: the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Query

from api import audit
from api.auth.deps import AuditReader
from api.db import ConnDep
from api.schemas import AuditEntry

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.get("/audit", response_model=list[AuditEntry])
async def audit_log(who: AuditReader, conn: ConnDep,
                    entity: str | None = Query(None, max_length=32),
                    entity_id: str | None = Query(None, max_length=64),
                    limit: int = Query(100, ge=1, le=1000)):
    """Recent writes: who, when, what, before and after."""
    return await audit.recent(conn, entity=entity, entity_id=entity_id, limit=limit)
