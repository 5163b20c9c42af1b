"""gridgov backup → an empty database → gridgov restore: every table comes back as it was (rows
counted and hashed table by table), the restore checks itself against the archive's manifest,
and it refuses what it must not do (a database that is not empty, a file that is no backup)."""

from __future__ import annotations

import io
import json
import stat
import tarfile

import psycopg
import pytest

from api.backup import read_manifest
from api.cli_exit import ExitCode
from api.settings import libpq_url
from tests.pg_support import scratch_database
from tests.test_cli_exits import fresh_settings, run, said_in_one_line  # noqa: F401 (fixture)

TABLES = """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> 'spatial_ref_sys'
            ORDER BY 1"""


def fingerprint(url: str) -> dict[str, tuple[int, int]]:
    """Every table's rows: how many, and an order-free hash of their text."""
    with psycopg.connect(libpq_url(url)) as conn:
        tables = [r[0] for r in conn.execute(TABLES)]
        return {t: conn.execute(f'SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)), 0) FROM "{t}" t')
                .fetchone() for t in tables}


@pytest.fixture
def empty_database(database_url):
    with scratch_database(database_url, "restored", template=None) as url:
        yield url


def test_a_backup_restores_into_an_empty_database_table_for_table(monkeypatch, capsys, database_url,
                                                                  empty_database, tmp_path, client):
    # some history of this run first, so that the round trip carries more than the sample
    assert client.post("/api/incidents", json={"category": "noise", "lon": 120.42, "lat": 30.87}).status_code == 201
    archive = tmp_path / "gridgov.tar"
    code, out, err = run(monkeypatch, capsys, database_url, ["backup", archive])
    assert code == ExitCode.DONE, err
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # it holds the keys
    before = fingerprint(database_url)
    assert read_manifest(archive)["tables"] == {t: n for t, (n, _) in before.items()}

    code, out, err = run(monkeypatch, capsys, empty_database, ["restore", archive])
    assert code == ExitCode.DONE, out + err
    assert "every table as the manifest says" in out
    assert fingerprint(empty_database) == before

    code, _, err = run(monkeypatch, capsys, empty_database, ["restore", archive])  # not empty any more
    assert code == ExitCode.USAGE and "not empty" in said_in_one_line(err)


def test_a_file_that_is_no_backup_is_refused(monkeypatch, capsys, empty_database, tmp_path):
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar archive at all")
    code, _, err = run(monkeypatch, capsys, empty_database, ["restore", junk])
    assert code == ExitCode.USAGE and "not a gridgov backup" in said_in_one_line(err)
    code, _, err = run(monkeypatch, capsys, empty_database, ["backup", tmp_path / "x.tar"])  # nothing to back up
    assert code == ExitCode.ENVIRONMENT and "no gridgov tables" in said_in_one_line(err)


def test_the_archive_carries_every_key_and_an_older_archive_keys_its_digests_with_its_token_key(
        monkeypatch, capsys, database_url, empty_database, tmp_path, settings):
    """The hash key and a QR rotation's overlap go into the archive; a restore of an archive from
    before the hash key existed takes its token key as the hash key (its digests were keyed so)."""
    from cryptography.fernet import Fernet

    for name in ("GRIDGOV_SECRET_KEY", "GRIDGOV_HASH_KEY", "GRIDGOV_CONTACT_KEY", "GRIDGOV_QR_KEY",
                 "GRIDGOV_QR_OVERLAP_UNTIL"):
        monkeypatch.delenv(name, raising=False)
    kept = {"secret_key": "s" * 40, "hash_key": "h" * 40, "contact_key": Fernet.generate_key().decode(),
            "qr_key": "n" * 40 + "," + "q" * 40, "qr_overlap_until": "2027-06-30T00:00:00+08:00"}
    there = tmp_path / "there"
    (there / ".gridgov").mkdir(parents=True)
    (there / ".gridgov" / "secrets.json").write_text(json.dumps(kept))
    monkeypatch.setenv("GRIDGOV_HOME", str(there))
    archive = tmp_path / "gridgov.tar"
    code, _, err = run(monkeypatch, capsys, database_url, ["backup", archive])
    assert code == ExitCode.DONE, err
    with tarfile.open(archive) as tar:
        assert json.load(tar.extractfile("secrets.json")) == kept
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]

    older = tmp_path / "older.tar"  # as a gridgov before the hash key wrote it
    with tarfile.open(older, "w") as tar:
        for member, data in members:
            if member.name == "secrets.json":
                data = json.dumps({k: kept[k] for k in ("secret_key", "contact_key", "qr_key")}).encode()
                member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    here = tmp_path / "here"
    monkeypatch.setenv("GRIDGOV_HOME", str(here))
    code, out, err = run(monkeypatch, capsys, empty_database, ["restore", older])
    assert code == ExitCode.DONE, out + err
    restored = json.loads((here / ".gridgov" / "secrets.json").read_text())
    assert restored["hash_key"] == restored["secret_key"] == kept["secret_key"]
    assert restored["qr_key"] == kept["qr_key"] and restored["contact_key"] == kept["contact_key"]
