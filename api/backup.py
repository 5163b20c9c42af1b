"""``gridgov backup`` and ``gridgov restore``: the database (``pg_dump``'s custom format) with the
secrets that read it (the contact key decrypts reporters' contacts, the hash key keys the stored
digests of API keys and phones, the QR key signs the posters on the walls), in one tar archive
of mode 600, and a manifest (gridgov's migration revision, the rows of every table) against
which a restore checks itself.

A restore goes into an empty database only, at a revision this gridgov knows; afterwards every
table's rows are counted against the manifest."""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import psycopg
from psycopg import sql as pgsql

from api import secrets_store
from api.embedded_pg import pg_bindir
from api.settings import PROJECT_ROOT, Settings, libpq_url
from api.sqlfiles import sql

ARCHIVE_FORMAT = 1
MANIFEST, DUMP, SECRETS = "manifest.json", "database.dump", "secrets.json"
Say = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore that cannot be done, in one line saying why and what to do."""


def _tables(conn: psycopg.Connection) -> list[str]:
    return [r["name"] for r in sql.fetchall_sync(conn, "backup_tables")]


def table_counts(conn: psycopg.Connection) -> dict[str, int]:
    return {t: conn.execute(pgsql.SQL("SELECT count(*) FROM {}").format(pgsql.Identifier(t))).fetchone()[0]
            for t in _tables(conn)}


def _revision(conn: psycopg.Connection) -> str | None:
    try:
        return conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    except psycopg.errors.UndefinedTable:
        return None


def _scripts():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(Config(str(PROJECT_ROOT / "alembic.ini")))


def code_head() -> str:
    return _scripts().get_current_head()


def _known_revisions() -> set[str]:
    return {r.revision for r in _scripts().walk_revisions()}


def _run(args: list[str], what: str) -> None:
    res = subprocess.run(args, capture_output=True, text=True)
    if res.returncode != 0:
        lines = [x for x in res.stderr.strip().splitlines() if x.strip()]
        raise BackupError(f"{what} failed: {lines[-1] if lines else res.returncode}")


def backup(settings: Settings, out: Path, say: Say = lambda m: None) -> dict:
    """Write the archive to ``out`` (mode 600); the manifest it carries."""
    url = libpq_url(settings.url)
    with psycopg.connect(url) as conn:
        revision = _revision(conn)
        if revision is None:
            raise BackupError("the database has no gridgov tables: nothing to back up (gridgov migrate first)")
        say("counting the rows of every table")
        counts = table_counts(conn)
    manifest = {"format": ARCHIVE_FORMAT, "gridgov": metadata.version("gridgov"), "revision": revision,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"), "tables": counts}
    with tempfile.TemporaryDirectory(prefix="gridgov-backup-") as tmp:
        dump = Path(tmp) / DUMP
        say("pg_dump (custom format)")
        _run([str(pg_bindir() / "pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              f"--file={dump}", f"--dbname={url}"], "pg_dump")
        secrets = {name: getattr(settings, name) for name in secrets_store.GENERATORS}
        if settings.qr_overlap_until is not None:  # posters signed with the previous QR key: accepted until
            secrets[secrets_store.QR_OVERLAP_UNTIL] = settings.qr_overlap_until.isoformat()
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the keys: the owner only
        with os.fdopen(fd, "wb") as f, tarfile.open(fileobj=f, mode="w") as tar:
            for name, data in ((MANIFEST, json.dumps(manifest, indent=2).encode()),
                               (SECRETS, json.dumps(secrets).encode())):
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = len(data), 0o600, int(datetime.now(UTC).timestamp())
                tar.addfile(info, io.BytesIO(data))
            tar.add(dump, arcname=DUMP)
    return manifest


def read_manifest(archive: Path) -> dict:
    try:
        with tarfile.open(archive) as tar:
            manifest = json.load(tar.extractfile(MANIFEST))
    except (tarfile.TarError, KeyError, ValueError, TypeError) as exc:
        reason = str(exc).strip().splitlines()[0].rstrip(":") if str(exc).strip() else type(exc).__name__
        raise BackupError(f"{archive}: not a gridgov backup ({reason})") from None
    if manifest.get("format") != ARCHIVE_FORMAT:
        raise BackupError(f"{archive}: a backup of format {manifest.get('format')!r}; this gridgov reads "
                          f"format {ARCHIVE_FORMAT}")
    return manifest


def restore(settings: Settings, archive: Path, say: Say = lambda m: None) -> dict:
    """Restore ``archive`` into the configured database, which must be empty; check every table's
    rows against the manifest. Returns what was done and what is left to the operator."""
    manifest = read_manifest(archive)
    if manifest["revision"] not in _known_revisions():
        raise BackupError(f"{archive}: made at revision {manifest['revision']}, which this gridgov does not know "
                          f"(a newer version made it): upgrade gridgov first")
    url = libpq_url(settings.url)
    with psycopg.connect(url) as conn:
        there = _tables(conn)
    if there:
        raise BackupError(f"the database is not empty ({len(there)} tables, e.g. {there[0]}): restore into an "
                          f"empty database (createdb, or a fresh cluster)")
    with tempfile.TemporaryDirectory(prefix="gridgov-restore-") as tmp, tarfile.open(archive) as tar:
        tar.extract(DUMP, tmp, filter="data")
        secrets = json.load(tar.extractfile(SECRETS))
        say("pg_restore")
        _run([str(pg_bindir() / "pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
              "--single-transaction", f"--dbname={url}", str(Path(tmp) / DUMP)], "pg_restore")
    say("checking every table against the manifest")
    with psycopg.connect(url) as conn:
        counts = table_counts(conn)
        revision = _revision(conn)
    differ = {t: (n, counts.get(t)) for t, n in manifest["tables"].items() if counts.get(t) != n}
    if differ or revision != manifest["revision"]:
        raise BackupError(f"the restored database does not match its manifest: {differ or revision}")
    return {"revision": revision, "head": code_head(), "tables": len(counts), "rows": sum(counts.values()),
            "secrets": _take_secrets(settings, secrets)}


def _take_secrets(settings: Settings, archived: dict[str, str]) -> list[str]:
    """The archive's keys become this instance's when they live in its secrets file; those given
    by the environment are named for the operator to set (returned). An archive from before the
    hash key existed keyed its digests with its token key: that is its hash key."""
    archived = {**{new: archived[old] for new, old in secrets_store.UPGRADED_FROM.items()
                   if new not in archived and old in archived}, **archived}
    overlap = settings.qr_overlap_until.isoformat() if settings.qr_overlap_until else None
    mine = {**{n: getattr(settings, n) for n in archived if n in secrets_store.GENERATORS},
            secrets_store.QR_OVERLAP_UNTIL: overlap}
    differ = [name for name, value in archived.items() if mine.get(name) != value]
    from_environment = [n for n in differ if os.environ.get(f"GRIDGOV_{n.upper()}") or settings.env == "production"]
    stored = [n for n in differ if n not in from_environment]
    if stored:
        secrets_store.keep(settings.data_dir, {n: archived[n] for n in stored})
    return [f"GRIDGOV_{n.upper()}" for n in from_environment]
