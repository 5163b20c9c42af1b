"""Accounts and sessions: create, grant, revoke, (de)activate, log in, refresh, log out.

Every write here records its audit row in the same transaction.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import NoReturn, TypedDict

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg_pool import AsyncConnectionPool

from api import audit
from api.auth import passwords, throttle, tokens
from api.auth.cache import PrincipalCache
from api.auth.policy import ROLES
from api.auth.principal import Grant, Principal
from api.errors import ApiError, Conflict, Invalid, NotFound, Unauthorized
from api.settings import Settings
from api.sqlfiles import sql

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")  # the app_user CHECK constraint
USERNAME_RULE = "2 to 64 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"


def normalise_username(username: str) -> str:
    """Trimmed and lowercased; refused (naming the field) unless it could be a username."""
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise Invalid(f"username must be {USERNAME_RULE}", field="username")
    return name


async def create_user(conn: AsyncConnection, username: str, password: str, *, display_name: str = "",
                      unit_code: str | None = None, actor: str = "cli") -> int:
    username = normalise_username(username)
    try:
        password_hash = passwords.hash_password(password)
    except ValueError as exc:
        raise Invalid(str(exc), field="password") from exc
    if unit_code and not (await sql.fetchone(conn, "unit_exists", {"code": unit_code})):
        raise Invalid(f"unknown unit code {unit_code!r}", field="unit")
    row = await sql.fetchone(conn, "auth_user_insert", {
        "username": username, "display_name": display_name, "password_hash": password_hash,
        "unit_code": unit_code})
    if row is None:
        raise Conflict(f"user {username!r} already exists", field="username")
    await audit.record(conn, actor=actor, action="create", entity="user", entity_id=username,
                       after={"username": username, "display_name": display_name, "unit_code": unit_code})
    user_id: int = row["id"]
    return user_id


async def _user_id(conn: AsyncConnection, username: str) -> int:
    row = await sql.fetchone(conn, "auth_user_by_name", {"username": username})
    if row is None:
        raise NotFound(f"no user {username!r}", field="username")
    user_id: int = row["id"]
    return user_id


async def grant(conn: AsyncConnection, username: str, role: str, area_code: str, *, actor: str = "cli") -> None:
    if role not in ROLES:
        raise Invalid(f"unknown role {role!r}; roles: {', '.join(ROLES)}", field="role")
    if not (await sql.fetchone(conn, "area_exists", {"code": area_code})):
        raise Invalid(f"unknown area code {area_code!r}", field="area")
    uid = await _user_id(conn, username)
    await sql.execute(conn, "auth_grant_insert",
                       {"user_id": uid, "role": role, "area_code": area_code, "granted_by": actor})
    await audit.record(conn, actor=actor, action="grant", entity="user", entity_id=username,
                       after={"role": role, "area_code": area_code})


async def revoke(conn: AsyncConnection, username: str, role: str, area_code: str | None = None, *,
                 actor: str = "cli") -> int:
    uid = await _user_id(conn, username)
    removed = await sql.execute(conn, "auth_grant_delete", {"user_id": uid, "role": role, "area_code": area_code})
    await audit.record(conn, actor=actor, action="revoke", entity="user", entity_id=username,
                       before={"role": role, "area_code": area_code})
    return removed


async def set_active(conn: AsyncConnection, username: str, active: bool, *, actor: str = "cli") -> int:
    """(De)activate an account; deactivation ends all its sessions at once. Returns sessions ended."""
    row = await sql.fetchone(conn, "auth_user_set_active", {"username": username, "active": active})
    if row is None:
        raise NotFound(f"no user {username!r}", field="username")
    ended = 0
    if not active:
        ended = await sql.execute(conn, "auth_sessions_revoke_user", {"user_id": row["id"]})
    await audit.record(conn, actor=actor, action="activate" if active else "deactivate", entity="user",
                       entity_id=username, before={"active": row["was_active"]},
                       after={"active": active, "sessions_ended": ended})
    return ended


async def set_password(conn: AsyncConnection, username: str, password: str, *, actor: str = "cli") -> int:
    """A new password (an administrator's reset: forgotten, or handed to someone else); every
    session of the account ends at once, so whoever held the old one is out. Returns sessions ended."""
    try:
        password_hash = passwords.hash_password(password)
    except ValueError as exc:
        raise Invalid(str(exc), field="password") from exc
    row = await sql.fetchone(conn, "auth_user_set_password", {"username": username, "password_hash": password_hash})
    if row is None:
        raise NotFound(f"no user {username!r}", field="username")
    ended = await sql.execute(conn, "auth_sessions_revoke_user", {"user_id": row["id"]})
    await audit.record(conn, actor=actor, action="set_password", entity="user", entity_id=username,
                       after={"sessions_ended": ended})
    return ended


async def list_users(conn: AsyncConnection) -> list[DictRow]:
    return await sql.fetchall(conn, "auth_users")


class Tokens(TypedDict):
    """What logging in and refreshing answer (``api.routes.auth.TokenPair``)."""
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int


async def login(conn: AsyncConnection, settings: Settings, username: str, password: str, client: str) -> Tokens:
    """Check a password with constant cost and per-name back-off; a token pair on success."""
    username = normalise_username(username)
    if len(password) > passwords.MAX_LENGTH:
        raise Invalid(f"password must have at most {passwords.MAX_LENGTH} characters", field="password")
    key = f"login:{username}"
    await throttle.check(conn, key, field="username")
    row = await sql.fetchone(conn, "auth_user_by_name", {"username": username})
    ok = await passwords.verify_password_async(password, row["password_hash"] if row else None)
    if not (row and ok and row["active"]):
        await throttle.failed(conn, key)
        await audit.record(conn, actor=username, action="login_failed", entity="session", client=client)
        await _keep_and_fail(conn, Unauthorized("wrong username or password", code="login_wrong"))
    await throttle.cleared(conn, key)
    session_id, jti = tokens.new_id(), tokens.new_id()
    await sql.execute(conn, "auth_session_insert", {
        "id": session_id, "user_id": row["id"], "jti": jti,
        "expires_at": datetime.now(UTC) + timedelta(days=settings.refresh_token_days)})
    await audit.record(conn, actor=username, action="login", entity="session", entity_id=session_id, client=client)
    return _token_pair(settings, row["id"], session_id, jti)


SCRAPER_ROLES = frozenset({"operator"})  # what an account may hold to get a long-lived token
SCRAPER_DAYS_MAX = 3650


async def scraper_token(conn: AsyncConnection, settings: Settings, username: str, days: int, *,
                        actor: str = "cli") -> str:
    """A long-lived access token for a monitoring account (a Prometheus server's credential), in a
    session of its own that ends after ``days`` (or with ``gridgov user deactivate``).

    Only for an active account whose every grant is ``operator``: that role reads ``/metrics``
    and nothing else (api/auth/policy.py), so a token left in a scraper's configuration for a
    year can do nothing else. Staff log in and refresh as before."""
    username = normalise_username(username)
    if not 1 <= days <= SCRAPER_DAYS_MAX:
        raise Invalid(f"days must be between 1 and {SCRAPER_DAYS_MAX}", field="days")
    row = await sql.fetchone(conn, "auth_user_by_name", {"username": username})
    if row is None:
        raise NotFound(f"no user {username!r}", field="username")
    if not row["active"]:
        raise Invalid(f"{username} is deactivated (gridgov user activate {username})", field="username")
    roles = {r["role"] for r in await sql.fetchall(conn, "auth_user_roles", {"user_id": row["id"]})}
    if not roles or roles - SCRAPER_ROLES:
        held = ", ".join(sorted(roles)) or "none"
        raise Invalid(f"a long-lived token is only for an account whose only role is operator ({username} "
                      f"holds: {held}); gridgov user grant {username} operator AREA", field="username")
    session_id = tokens.new_id()
    lifetime = timedelta(days=days)
    await sql.execute(conn, "auth_session_insert", {
        "id": session_id, "user_id": row["id"], "jti": tokens.new_id(), "expires_at": datetime.now(UTC) + lifetime})
    await audit.record(conn, actor=actor, action="scraper_token", entity="session", entity_id=session_id,
                       after={"username": username, "days": days})
    return tokens.access_token(_secret_key(settings), user_id=row["id"], session_id=session_id,
                               minutes=days * 24 * 60)


async def _keep_and_fail(conn: AsyncConnection, error: ApiError) -> NoReturn:
    """Commit what this request wrote (a revocation, a failed-login audit row), then fail.

    The request's transaction is rolled back on any error; these writes must survive it.
    """
    await conn.commit()
    raise error


def _secret_key(settings: Settings) -> str:
    """The key that signs tokens: ``Settings`` fills it when validated (given, or generated)."""
    if settings.secret_key is None:
        raise RuntimeError("settings without a secret_key")
    return settings.secret_key


def _token_pair(settings: Settings, user_id: int, session_id: str, jti: str) -> Tokens:
    return {
        "access_token": tokens.access_token(_secret_key(settings), user_id=user_id, session_id=session_id,
                                            minutes=settings.access_token_minutes),
        "refresh_token": tokens.refresh_token(_secret_key(settings), user_id=user_id, session_id=session_id,
                                              jti=jti, days=settings.refresh_token_days),
        "token_type": "bearer",
        "expires_in": settings.access_token_minutes * 60,
    }


async def refresh(conn: AsyncConnection, settings: Settings, refresh_token: str, client: str) -> Tokens:
    try:
        claims = tokens.decode(_secret_key(settings), refresh_token, "refresh")
    except tokens.TokenError as exc:
        raise Unauthorized(str(exc), field="refresh_token", code="session_expired") from exc
    new_jti = tokens.new_id()
    row = await sql.fetchone(conn, "auth_session_rotate", {
        "new_jti": new_jti, "session_id": claims["sid"], "old_jti": claims["jti"]})
    if row is None:
        # a replayed (already rotated) refresh token, or the account was deactivated: end the session
        ended = await sql.fetchone(conn, "auth_session_revoke", {"session_id": claims["sid"]})
        if ended is not None:
            await audit.record(conn, actor=ended["username"], action="refresh_refused_session_ended",
                               entity="session", entity_id=claims["sid"], client=client)
        await _keep_and_fail(conn, Unauthorized("refresh token no longer valid; log in again", field="refresh_token",
                                                 code="session_expired"))
    await audit.record(conn, actor=row["username"], action="refresh", entity="session", entity_id=claims["sid"],
                       client=client)
    return _token_pair(settings, row["user_id"], claims["sid"], new_jti)


async def logout(conn: AsyncConnection, principal: Principal, cache: PrincipalCache | None = None) -> None:
    if cache is not None:  # this worker forgets it now; the others on the NOTIFY of the revocation
        cache.drop_session(principal.session_id)
    await sql.execute(conn, "auth_session_revoke", {"session_id": principal.session_id})
    await audit.record(conn, actor=principal.username, action="logout", entity="session",
                       entity_id=principal.session_id, client=principal.client)


async def principal_for(pool: AsyncConnectionPool, settings: Settings, token: str, client: str,
                        cache: PrincipalCache | None = None) -> Principal:
    """The caller behind an access token; from this worker's ``cache`` when it knows the session
    (no connection is taken then), else read on a connection of ``pool``.

    Requests pass the app's pool (``api.db.pool_of``): the connection is given back before the
    route takes its own (``api.auth.access`` runs before ``api.db.get_conn``), so a request never
    waits for a second connection while holding one."""
    try:
        claims = tokens.decode(_secret_key(settings), token, "access")
    except tokens.TokenError as exc:
        raise Unauthorized(str(exc), code="session_expired") from exc
    session_id, user_id = claims["sid"], int(claims["sub"])
    if cache is not None:
        cached = cache.get(session_id, user_id, client)
        if cached is not None:
            return cached
        generation = cache.generation  # before the read: a revocation committed meanwhile wins
    async with pool.connection() as conn:
        row = await sql.fetchone(conn, "auth_principal", {"session_id": session_id, "user_id": user_id})
    if row is None:
        raise Unauthorized("session ended; log in again", code="session_expired")
    grants = tuple(Grant(*g.split("|", 1)) for g in row["grants"])
    principal = Principal(username=row["username"], user_id=row["id"], session_id=row["session_id"],
                          unit_code=row["unit_code"], grants=grants, client=client)
    if cache is not None:
        cache.put(principal, row["expires_at"], generation)
    return principal
