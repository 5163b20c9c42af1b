"""Password hashing with argon2 (pwdlib), off the event loop.

argon2 is slow on purpose (about 100 ms of CPU). It runs in a small thread pool of its
own, so that a burst of logins queues there instead of stalling every other request, and
an unknown username costs the same as a wrong password (a dummy hash is checked).
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
from concurrent.futures import ThreadPoolExecutor

from pwdlib import PasswordHash

MIN_LENGTH = 10
MAX_LENGTH = 1024
_POOL = ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1)), thread_name_prefix="argon2")


@functools.cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


@functools.cache
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise ValueError(f"password must have at least {MIN_LENGTH} characters (and at most {MAX_LENGTH})")
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Check a password; with no hash (unknown user) a dummy one is checked, and False returned."""
    if not password_hash:
        _hasher().verify(password, _dummy_hash())
        return False
    return _hasher().verify(password, password_hash)


async def verify_password_async(password: str, password_hash: str | None) -> bool:
    """:func:`verify_password` in the argon2 pool: the event loop keeps serving meanwhile."""
    return await asyncio.get_running_loop().run_in_executor(_POOL, verify_password, password, password_hash)


async def warm_up() -> None:
    """Make the dummy hash before the first login, so that its first use costs what later ones do."""
    await asyncio.get_running_loop().run_in_executor(_POOL, _dummy_hash)


def random_password() -> str:
    return secrets.token_urlsafe(15)
