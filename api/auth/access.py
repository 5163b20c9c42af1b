"""Per-route access rules, all drawn from the one permission table (``api.auth.policy``).

Every route declares one; a route without one fails the route × role matrix test.

    @router.get("/x")
    async def x(who: Annotated[Principal, Depends(Access(Capability.READ_MAP))]): ...

``Access.public()`` admits anyone (the principal is anonymous unless a valid token came
along). Its rate limit is per client: ``limit="anonymous"`` spares callers with a valid
staff token, ``limit="always"`` applies to everybody (log in, token refresh, reporter
secrets: the brute-force targets), ``limit=None`` applies none (static pages, reference data).

A client is its phone when it sends one: the report and track pages send a random secret of
their own (``X-Device-Secret``, made once per phone), so residents behind one carrier NAT
address are limited one by one (``public_rate_per_minute`` each) under a much higher ceiling
per address (``public_ip_rate_per_minute``). A caller without one is limited by its address
at the per-phone rate. Only a keyed hash of the secret is kept (:attr:`Principal.device`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Literal

from fastapi import Depends, Header, Request
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer
from psycopg_pool import AsyncConnectionPool

from api.auth.policy import Capability, holds, roles_with
from api.auth.principal import Principal, anonymous
from api.auth.users import principal_for
from api.db import pool_of
from api.errors import Forbidden, TooManyRequests, Unauthorized
from api.keyed import keyed_hash
from api.sqlfiles import sql

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)

RateLimit = Literal["anonymous", "always"] | None

DEVICE_HEADER = "X-Device-Secret"
DeviceSecret = Annotated[str | None, Header(
    alias=DEVICE_HEADER, min_length=22, max_length=128, pattern=r"^[A-Za-z0-9_-]+$",
    description="a random secret the phone made once (the report and track pages send it): rate "
                "limits and Idempotency-Keys are per phone, not per address")]


class RateLimiter:
    """Token bucket per client key, shared by every worker: one statement on the UNLOGGED table
    ``rate_bucket`` (migration 0013) per check, committed at once on a connection of the app's
    pool, outside the request's transaction (a request that fails later still spent its token, and no row lock is held
    while the request runs).

    The key carries the configured rate, so a changed ``public_rate_per_minute`` starts fresh
    buckets instead of inheriting ones filled under another rate."""

    def __init__(self, per_minute: int, ip_per_minute: int | None = None):
        self.rate = per_minute / 60.0
        self.capacity = float(max(per_minute, 1))
        self.prefix = f"public/{per_minute}:"
        # the ceiling per address under which each phone has its own bucket
        self.ceiling = RateLimiter(ip_per_minute) if ip_per_minute is not None else None

    async def allow(self, pool: AsyncConnectionPool, key: str) -> tuple[bool, float]:
        """(allowed, seconds until a token is back); ``pool``: the app's pool (``api.db.pool_of``)."""
        async with pool.connection() as conn:
            row = await sql.fetchone(conn, "rate_take", {
                "key": self.prefix + key, "capacity": self.capacity, "rate": self.rate})
        wait = row["wait_s"] if row is not None else None
        if wait is None:  # a first request racing another's first insert: count it refused
            wait = 1 / self.rate
        return wait <= 0, max(0.0, wait)


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def device_of(request: Request, secret: str | None) -> str | None:
    """The keyed hash that names a phone (never the secret itself), or None without one."""
    if secret is None:
        return None
    return keyed_hash(request.app.state.settings.hash_key, "device", secret)[:32]


async def _throttle(request: Request, client: str, device: str | None) -> None:
    """A token from the phone's bucket and from its address's ceiling (or, without a phone
    secret, from the address's bucket at the per-phone rate)."""
    limiter: RateLimiter = request.app.state.rate_limiter
    pool = pool_of(request.app)
    if device is None:
        ok, wait = await limiter.allow(pool, f"ip:{client}")
        who = client
    else:
        ok, wait = await limiter.allow(pool, f"device:{device}")
        who = "this phone"
        if ok and limiter.ceiling is not None:
            ok, wait = await limiter.ceiling.allow(pool, f"ip:{client}")
            who = client
    if not ok:
        raise TooManyRequests(f"too many requests from {who}; retry in {wait:.0f} s",
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
    def anyone(cls, limit: RateLimit = "anonymous") -> Access:
        return cls(public=True, limit=limit)

    @property
    def roles(self) -> frozenset[str]:
        """The roles admitted, derived from the policy (for the route × role matrix)."""
        return frozenset() if self.capability is None else roles_with(self.capability)

    def __repr__(self) -> str:
        return f"Access(public, limit={self.limit})" if self.capability is None else f"Access({self.capability.value})"

    async def __call__(self, request: Request,
                       token: Annotated[str | None, Depends(oauth2)] = None,
                       device_secret: DeviceSecret = None) -> Principal:
        client = client_of(request)
        settings = request.app.state.settings
        if self.capability is None:  # public=True: the constructor allows exactly one of the two
            device = device_of(request, device_secret)
            if self.limit == "always":
                await _throttle(request, client, device)
            if token:  # staff may use public routes too
                try:
                    staff = await principal_for(pool_of(request.app), settings, token, client,
                                                request.app.state.principals)
                    return replace(staff, device=device) if device else staff
                except Unauthorized:
                    pass  # a stale token on a public route: treat as anonymous
            if self.limit == "anonymous":
                await _throttle(request, client, device)
            return anonymous(client, device)
        if not token:
            raise Unauthorized("log in first (Authorization: Bearer <token>)", code="login_required")
        principal = await principal_for(pool_of(request.app), settings, token, client,
                                           request.app.state.principals)
        if not holds(principal, self.capability):
            raise Forbidden(f"this needs the capability {self.capability.value!r} "
                            f"(roles: {', '.join(sorted(self.roles))})")
        return principal


def rule_of(route: APIRoute) -> Access | None:
    """The Access rule a route declared (searched through its dependencies)."""
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Access):
            return dep.call
        stack.extend(dep.dependencies)
    return None
