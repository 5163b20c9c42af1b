"""Administration: the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Query

from api.auth.deps import AdminOnly
from api.db import ConnDep
from spatial.sqlfiles import sql

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.get("/audit")
async def audit_log(conn: ConnDep, who: AdminOnly,
                    entity: str | None = Query(None, max_length=32),
                    entity_id: str | None = Query(None, max_length=64),
                    limit: int = Query(100, ge=1, le=1000)) -> list[dict]:
    """Recent writes: who, when, what, before and after."""
    return [dict(r) for r in (await conn.execute(sql("audit_select"),
                                                 {"entity": entity, "entity_id": entity_id, "limit": limit})).mappings()]
