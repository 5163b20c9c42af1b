"""Keyed hashes (HMAC-SHA256 under a key derived from the hash key, ``GRIDGOV_HASH_KEY``), one label per use.

Stored fingerprints of what callers send (an Idempotency-Key, a report body that holds a
phone number, an Open311 API key, a phone's secret, an imported id) are keyed, so a copy of the
database does not let anyone brute-force them. The hash key is not the token key: rotating that
(every session ends) leaves these valid.
"""

from __future__ import annotations

import functools
import hashlib
import hmac


@functools.cache
def _subkey(secret: str, label: str) -> bytes:
    return hmac.new(secret.encode(), f"gridgov:{label}".encode(), hashlib.sha256).digest()


def keyed_hash(secret: str, label: str, data: str | bytes) -> str:
    if isinstance(data, str):
        data = data.encode()
    return hmac.new(_subkey(secret, label), data, hashlib.sha256).hexdigest()


def keyed_token(secret: str, label: str, data: str) -> str:
    """A URL-safe secret derived from ``data`` (the same input gives the same token)."""
    import base64

    digest = hmac.new(_subkey(secret, label), data.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")
