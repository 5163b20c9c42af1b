"""Reporters' contact details: encrypted at rest (Fernet). ``GRIDGOV_CONTACT_KEY`` may hold
several keys, comma-separated: the first encrypts, every one decrypts (a rotation's overlap,
``gridgov secrets rotate contact``)."""

from __future__ import annotations

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


def keys_of(setting: str) -> list[str]:
    return [k.strip() for k in setting.split(",") if k.strip()]


@functools.cache
def _fernet(setting: str) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys_of(setting)])


def seal(key: str, contact: str | None) -> bytes | None:
    return _fernet(key).encrypt(contact.encode()) if contact else None


def unseal(key: str, token: bytes | None) -> str | None:
    if not token:
        return None
    try:
        return _fernet(key).decrypt(bytes(token)).decode()
    except InvalidToken:
        return None


def reseal(key: str, token: bytes) -> bytes:
    """The same contact under the first key (raises ``InvalidToken`` when no key reads it)."""
    return _fernet(key).rotate(bytes(token))
