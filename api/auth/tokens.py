"""Short-lived access JWTs and rotating refresh JWTs (pyjwt, HS256)."""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

ALGORITHM = "HS256"
ISSUER = "gridgov"
VERIFIED_MAX = 4096  # tokens whose signature this process checked, kept until they expire

Claims = dict[str, Any]  # a JWT's payload, as JSON decodes it

# (secret, token, type) -> claims. The same token string carries the same signature, so once
# checked it needs only its expiry checked again: a request with a known token skips the HMAC
# and PyJWT's parsing (about 0.13 ms). Revocation is the session's business (api.auth.cache).
_verified: dict[tuple[str, str, str], Claims] = {}


class TokenError(ValueError):
    pass


def _encode(secret: str, claims: Claims, lifetime: timedelta) -> str:
    now = datetime.now(UTC)
    return jwt.encode({**claims, "iss": ISSUER, "iat": now, "exp": now + lifetime}, secret, algorithm=ALGORITHM)


def access_token(secret: str, *, user_id: int, session_id: str, minutes: int) -> str:
    return _encode(secret, {"sub": str(user_id), "sid": session_id, "typ": "access"}, timedelta(minutes=minutes))


def refresh_token(secret: str, *, user_id: int, session_id: str, jti: str, days: int) -> str:
    return _encode(secret, {"sub": str(user_id), "sid": session_id, "jti": jti, "typ": "refresh"},
                   timedelta(days=days))


def new_id() -> str:
    return secrets.token_urlsafe(18)


def decode(secret: str, token: str, expected_type: str) -> Claims:
    key = (secret, token, expected_type)
    claims = _verified.get(key)
    if claims is not None:
        if claims["exp"] > time.time():
            return claims
        _verified.pop(key, None)
        raise TokenError("token expired")
    claims = _verify(secret, token, expected_type)
    if len(_verified) >= VERIFIED_MAX:
        _verified.clear()
    _verified[key] = claims
    return claims


def _verify(secret: str, token: str, expected_type: str) -> Claims:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["exp", "iat", "sub", "sid", "typ"]})
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("token expired") from exc
    except jwt.InvalidTokenError as exc:
        raise TokenError("invalid token") from exc
    if claims.get("typ") != expected_type:
        raise TokenError(f"not an {expected_type} token")
    _check_claim_types(claims)
    return claims


ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _check_claim_types(claims: Claims) -> None:
    """A correctly signed token can still carry odd claims (a list for ``sub``, a number for
    ``sid``): refuse them here as invalid tokens, before they reach a query."""
    sub, sid, jti = claims.get("sub"), claims.get("sid"), claims.get("jti")
    if not (isinstance(sub, str) and sub.isascii() and sub.isdigit() and len(sub) <= 18):
        raise TokenError("invalid token")
    if not (isinstance(sid, str) and ID.match(sid)):
        raise TokenError("invalid token")
    if claims["typ"] == "refresh" and not (isinstance(jti, str) and ID.match(jti)):
        raise TokenError("invalid token")
