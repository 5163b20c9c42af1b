"""Log in (OAuth2 password flow), refresh, log out, who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from api.auth import users
from api.auth.deps import AnyStaff, Public
from api.db import ConnDep

router = APIRouter(prefix="/api/auth", tags=["auth"])


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=10, max_length=4096)


class Me(BaseModel):
    username: str
    unit_code: str | None
    roles: list[str]
    grants: list[dict]


@router.post("/token", response_model=TokenPair)
async def log_in(form: Annotated[OAuth2PasswordRequestForm, Depends()], conn: ConnDep, request: Request,
                 who: Public):
    """Exchange username and password for a short-lived access token and a refresh token."""
    return await users.login(conn, request.app.state.settings, form.username, form.password, who.client)


@router.post("/refresh", response_model=TokenPair)
async def refresh(body: RefreshIn, conn: ConnDep, request: Request, who: Public):
    """Rotate: a refresh token works once; a replayed one ends the session."""
    return await users.refresh(conn, request.app.state.settings, body.refresh_token)


@router.post("/logout", status_code=204)
async def log_out(conn: ConnDep, who: AnyStaff):
    """End this login: its access and refresh tokens stop working at once."""
    await users.logout(conn, who)


@router.get("/me", response_model=Me)
async def me(who: AnyStaff):
    """The caller and their role grants."""
    return {"username": who.username, "unit_code": who.unit_code, "roles": sorted(who.roles),
            "grants": [{"role": g.role, "area_code": g.area_code} for g in who.grants]}
