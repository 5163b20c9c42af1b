"""Short-lived access JWTs and rotating refresh JWTs (pyjwt, HS256)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"
ISSUER = "gridgov"


class TokenError(ValueError):
    pass


def _encode(secret: str, claims: dict, lifetime: timedelta) -> str:
    now = datetime.now(UTC)
    return jwt.encode({**claims, "iss": ISSUER, "iat": now, "exp": now + lifetime}, secret, algorithm=ALGORITHM)


def access_token(secret: str, *, user_id: int, session_id: str, minutes: int) -> str:
    return _encode(secret, {"sub": str(user_id), "sid": session_id, "typ": "access"}, timedelta(minutes=minutes))


def refresh_token(secret: str, *, user_id: int, session_id: str, jti: str, days: int) -> str:
    return _encode(secret, {"sub": str(user_id), "sid": session_id, "jti": jti, "typ": "refresh"},
                   timedelta(days=days))


def new_id() -> str:
    return secrets.token_urlsafe(18)


def decode(secret: str, token: str, expected_type: str) -> dict:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["exp", "iat", "sub", "sid", "typ"]})
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("token expired") from exc
    except jwt.InvalidTokenError as exc:
        raise TokenError("invalid token") from exc
    if claims.get("typ") != expected_type:
        raise TokenError(f"not an {expected_type} token")
    return claims
