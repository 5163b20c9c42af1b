"""The async engine (on ``app.state``) and the per-request connection dependency."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from api.settings import Settings


def make_engine(settings: Settings) -> AsyncEngine:
    return create_async_engine(settings.url, pool_size=10, max_overflow=20, pool_pre_ping=True)


async def get_conn(request: Request) -> AsyncIterator[AsyncConnection]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    engine: AsyncEngine = request.app.state.engine
    async with engine.begin() as conn:
        yield conn


# scope="function": commit when the route returns, before the answer is sent (FastAPI's
# default "request" scope would commit after the client already has its 201).
ConnDep = Annotated[AsyncConnection, Depends(get_conn, scope="function")]
