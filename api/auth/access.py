"""Per-route access rules, all drawn from the one permission table (``api.auth.policy``).

Every route declares one; a route without one fails the route × role matrix test.

    @router.get("/x")
    async def x(who: Annotated[Principal, Depends(Access(Capability.READ_MAP))]): ...

``Access.public()`` admits anyone (the principal is anonymous unless a valid token came
along). Its rate limit is per client: ``limit="anonymous"`` spares callers with a valid
staff token, ``limit="always"`` applies to everybody (log in, token refresh, reporter
secrets: the brute-force targets), ``limit=None`` applies none (static pages, reference data).
"""

from __future__ import annotations

import threading
import time
from typing import Annotated, Literal

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from api.auth.policy import Capability, holds, roles_with
from api.auth.principal import Principal, anonymous
from api.auth.users import principal_for
from api.db import ConnDep
from api.errors import Forbidden, TooManyRequests, Unauthorized

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)

RateLimit = Literal["anonymous", "always"] | None


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


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _throttle(request: Request, client: str) -> None:
    ok, wait = request.app.state.rate_limiter.allow(client)
    if not ok:
        raise TooManyRequests(f"too many requests from {client}; retry in {wait:.0f} s",
                              retry_after=max(1, round(wait)))


class Access:
    """The rule of one route: the capability it needs, or public with a rate limit."""

    def __init__(self, capability: Capability | None = None, *, public: bool = False,
                 limit: RateLimit = "anonymous"):
        if (capability is None) == (not public):
            raise ValueError("a route needs exactly one of: a capability, or public=True")
        self.capability = capability
        self.public = public
        self.limit = limit if public else None

    @classmethod
    def anyone(cls, limit: RateLimit = "anonymous") -> "Access":
        return cls(public=True, limit=limit)

    @property
    def roles(self) -> frozenset[str]:
        """The roles admitted, derived from the policy (for the route × role matrix)."""
        return frozenset() if self.public else roles_with(self.capability)

    def __repr__(self) -> str:
        return f"Access(public, limit={self.limit})" if self.public else f"Access({self.capability.value})"

    async def __call__(self, request: Request, conn: ConnDep,
                       token: Annotated[str | None, Depends(oauth2)] = None) -> Principal:
        client = client_of(request)
        settings = request.app.state.settings
        if self.public:
            if self.limit == "always":
                _throttle(request, client)
            if token:  # staff may use public routes too
                try:
                    return await principal_for(conn, settings, token, client)
                except Unauthorized:
                    pass  # a stale token on a public route: treat as anonymous
            if self.limit == "anonymous":
                _throttle(request, client)
            return anonymous(client)
        if not token:
            raise Unauthorized("log in first (Authorization: Bearer <token>)")
        principal = await principal_for(conn, settings, token, client)
        if not holds(principal, self.capability):
            raise Forbidden(f"this needs the capability {self.capability.value!r} "
                            f"(roles: {', '.join(sorted(self.roles))})")
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
