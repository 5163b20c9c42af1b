"""The app's secrets: from the environment, or generated once into ``.gridgov/secrets.json``.

Nothing secret lives in the source. On the first start of a development or test
instance, random keys are written to ``.gridgov/secrets.json`` (mode 600, created
atomically so that several workers starting together agree on one set); later starts
read them back. Production never generates: it refuses to start unless the environment
gives every key.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet

FILE_NAME = "secrets.json"
MIN_SECRET_LENGTH = 32

# setting name -> how to make a new one
GENERATORS = {
    "secret_key": lambda: secrets.token_urlsafe(48),   # signs access/refresh tokens (rotated: sessions end)
    "hash_key": lambda: secrets.token_urlsafe(48),     # keys the stored digests (API keys, devices, imports)
    "contact_key": lambda: Fernet.generate_key().decode(),  # encrypts reporters' contact details
    "qr_key": lambda: secrets.token_urlsafe(48),       # signs the grid QR codes on the walls
}


# a key added by a newer version that must take an existing key's value on an install made before
# it: the digests stored so far were keyed with the token key, and stay valid under the hash key
UPGRADED_FROM = {"hash_key": "secret_key"}
# kept with the keys, not secret: when the previous QR key stops being accepted (a rotation)
QR_OVERLAP_UNTIL = "qr_overlap_until"


class SecretsError(ValueError):
    pass


def check_secret_key(value: str) -> None:
    if len(value) < MIN_SECRET_LENGTH:
        raise SecretsError(f"GRIDGOV_SECRET_KEY must be a random string of {MIN_SECRET_LENGTH}+ characters")


def check_contact_key(value: str) -> None:
    """One Fernet key, or several comma-separated during a rotation (the first encrypts)."""
    try:
        keys = [k.strip() for k in value.split(",") if k.strip()]
        if not keys:
            raise ValueError("empty")
        for key in keys:
            Fernet(key.encode())
    except (ValueError, TypeError) as exc:
        raise SecretsError("GRIDGOV_CONTACT_KEY is not a valid Fernet key (32 url-safe base64-encoded bytes; "
                           "make one with: python -c 'from cryptography.fernet import Fernet; "
                           "print(Fernet.generate_key().decode())')") from exc


def check_hash_key(value: str) -> None:
    if len(value) < MIN_SECRET_LENGTH:
        raise SecretsError(f"GRIDGOV_HASH_KEY must be a random string of {MIN_SECRET_LENGTH}+ characters "
                           "(an install from before it existed sets it to its GRIDGOV_SECRET_KEY)")


def check_qr_key(value: str) -> None:
    """One key, or NEW,OLD during a rotation (NEW signs; OLD is accepted until the overlap ends)."""
    keys = [k.strip() for k in value.split(",")]
    if len(keys) > 2 or any(len(k) < MIN_SECRET_LENGTH for k in keys):
        raise SecretsError(f"GRIDGOV_QR_KEY must be a random string of {MIN_SECRET_LENGTH}+ characters, or NEW,OLD "
                           "during a rotation (it signs the printed QR codes: keep it when other keys rotate)")


CHECKS = {"secret_key": check_secret_key, "hash_key": check_hash_key, "contact_key": check_contact_key,
          "qr_key": check_qr_key}


def load_or_create(data_dir: Path) -> dict[str, str]:
    """The generated secrets of this instance, creating the file (mode 600) on first use."""
    path = data_dir / FILE_NAME
    if path.exists():
        stored = json.loads(path.read_text())
        missing = {k: stored[UPGRADED_FROM[k]] if UPGRADED_FROM.get(k) in stored else make()
                   for k, make in GENERATORS.items() if k not in stored}
        if not missing:
            return stored
        stored.update(missing)  # a key added by a newer version: extend the file
        _write(path, stored, replace=True)
        return stored
    data_dir.mkdir(parents=True, exist_ok=True)
    fresh = {k: make() for k, make in GENERATORS.items()}
    if _write(path, fresh, replace=False):
        return fresh
    return json.loads(path.read_text())  # another process won the race: use its keys


def keep(data_dir: Path, changes: dict[str, str]) -> None:
    """Replace some of the stored secrets (a rotation, a restore), atomically."""
    path = data_dir / FILE_NAME
    current = json.loads(path.read_text()) if path.exists() else {}
    data_dir.mkdir(parents=True, exist_ok=True)
    _write(path, {**current, **changes}, replace=True)


def _write(path: Path, doc: dict, *, replace: bool) -> bool:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secrets-")
    try:
        with os.fdopen(fd, "w") as f:  # mkstemp creates the file with mode 600
            json.dump(doc, f)
        if replace:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)  # atomic create-if-absent
            return True
        except FileExistsError:
            return False
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
