"""Password hashing with argon2 (pwdlib)."""

from __future__ import annotations

import functools
import secrets

from pwdlib import PasswordHash

MIN_LENGTH = 10


@functools.cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise ValueError(f"password must have at least {MIN_LENGTH} characters")
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if not password_hash:
        _hasher().hash(password)  # same cost whether or not the user exists
        return False
    return _hasher().verify(password, password_hash)


def random_password() -> str:
    return secrets.token_urlsafe(15)
