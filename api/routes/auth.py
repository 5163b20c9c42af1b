"""Log in (OAuth2 password flow), refresh, log out, who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from api.auth import users
from api.auth.deps import PublicAlwaysLimited, Session
from api.auth.policy import capabilities_of
from api.db import ConnDep
from api.schemas import Strict

router = APIRouter(prefix="/api/auth", tags=["auth"])


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


class RefreshIn(Strict):
    refresh_token: str = Field(min_length=10, max_length=4096)


class GrantOut(BaseModel):
    role: str
    area_code: str


class Me(BaseModel):
    username: str
    unit_code: str | None
    roles: list[str]
    grants: list[GrantOut]
    capabilities: list[str] = Field(description="what the caller may do (api/auth/policy.py); "
                                                "the pages show what these allow")


@router.post("/token", response_model=TokenPair)
async def log_in(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request,
                 who: PublicAlwaysLimited, conn: ConnDep):
    """Exchange username and password for a short-lived access token and a refresh token.

    Repeated failures for one username lock it for a growing time (429 with Retry-After).
    """
    return await users.login(conn, request.app.state.settings, form.username, form.password, who.client)


@router.post("/refresh", response_model=TokenPair)
async def refresh(body: RefreshIn, request: Request, who: PublicAlwaysLimited, conn: ConnDep):
    """Rotate: a refresh token works once; a replayed one ends the session."""
    return await users.refresh(conn, request.app.state.settings, body.refresh_token, who.client)


@router.post("/logout", status_code=204)
async def log_out(who: Session, conn: ConnDep, request: Request) -> None:
    """End this login: its access and refresh tokens stop working at once."""
    await users.logout(conn, who, request.app.state.principals)


@router.get("/me", response_model=Me)
async def me(who: Session):
    """The caller, their role grants and their capabilities."""
    return {"username": who.username, "unit_code": who.unit_code, "roles": sorted(who.roles),
            "grants": [{"role": g.role, "area_code": g.area_code} for g in who.grants],
            "capabilities": capabilities_of(who)}
