"""Reporters' contact details: encrypted at rest (Fernet, key from settings)."""

from __future__ import annotations

import functools

from cryptography.fernet import Fernet, InvalidToken


@functools.cache
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def seal(key: str, contact: str | None) -> bytes | None:
    return _fernet(key).encrypt(contact.encode()) if contact else None


def unseal(key: str, token: bytes | None) -> str | None:
    if not token:
        return None
    try:
        return _fernet(key).decrypt(bytes(token)).decode()
    except InvalidToken:
        return None
