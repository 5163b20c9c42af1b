"""Per-route access rules. Every route declares one; a route without one fails the
route × role matrix test.

    @router.get("/x")
    async def x(who: Annotated[Principal, Depends(Access("dispatcher", "analyst"))]): ...

``Access(public=True)`` admits anyone (the principal is then anonymous unless a valid
token came along) and applies the per-client rate limit.
"""

from __future__ import annotations

import threading
import time
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from api.auth.principal import ROLES, Principal, anonymous
from api.auth.users import principal_for
from api.db import ConnDep
from api.errors import Forbidden, TooManyRequests, Unauthorized

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


class RateLimiter:
    """Token bucket per client key; in-process (one per worker)."""

    def __init__(self, per_minute: int):
        self.rate = per_minute / 60.0
        self.capacity = float(max(per_minute, 1))
        self.buckets: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def allow(self, key: str) -> tuple[bool, float]:
        now = time.monotonic()
        with self.lock:
            tokens, last = self.buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self.buckets[key] = (tokens - 1, now)
                return True, 0.0
            self.buckets[key] = (tokens, now)
            return False, (1 - tokens) / self.rate
        # (buckets are tiny; a worker restart clears them)


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class Access:
    """The rule of one route: which roles may call it, or public."""

    def __init__(self, *roles: str, public: bool = False, rate_limited: bool = True):
        unknown = set(roles) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles {unknown}")
        if not roles and not public:
            raise ValueError("a route must name its roles or be public")
        self.roles = frozenset(roles) | ({"admin"} if roles else frozenset())
        self.public = public
        self.rate_limited = public and rate_limited

    def __repr__(self) -> str:
        return "Access(public)" if self.public else f"Access({', '.join(sorted(self.roles))})"

    async def __call__(self, request: Request, conn: ConnDep,
                       token: Annotated[str | None, Depends(oauth2)] = None) -> Principal:
        client = client_of(request)
        settings = request.app.state.settings
        if self.public:
            if token:  # staff may use public routes too, unthrottled
                try:
                    return await principal_for(conn, settings, token, client)
                except Unauthorized:
                    pass  # a stale token on a public route: treat as anonymous
            if self.rate_limited:
                ok, wait = request.app.state.rate_limiter.allow(client)
                if not ok:
                    raise TooManyRequests(f"too many requests from {client}; retry in {wait:.0f} s")
            return anonymous(client)
        if not token:
            raise Unauthorized("log in first (Authorization: Bearer <token>)")
        principal = await principal_for(conn, settings, token, client)
        if not principal.has_any(self.roles):
            raise Forbidden(f"this needs one of the roles: {', '.join(sorted(self.roles))}")
        return principal


def rule_of(route) -> Access | None:
    """The Access rule a route declared (searched through its dependencies)."""
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Access):
            return dep.call
        stack.extend(dep.dependencies)
    return None
