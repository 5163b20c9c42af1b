"""Rotating the contact key: every stored contact is re-encrypted under the new key in one
transaction and reads under it afterwards; a key that reads nothing changes nothing. Runs on a
database of its own (the other tests' app keeps the key it started with)."""

from __future__ import annotations

import json

import psycopg
import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from api import contact
from api.cli_exit import ExitCode
from api.main import create_app
from api.settings import libpq_url
from tests.pg_support import sample_database, scratch_database
from tests.test_cli_exits import fresh_settings, run, said_in_one_line  # noqa: F401 (fixture)

PHONE = "13800138000"


@pytest.fixture
def own_database(database_url, settings):
    """A copy of the sample database with one report that left a phone number."""
    with scratch_database(database_url, "keys", template=sample_database(settings)) as own:
        with TestClient(create_app(settings.model_copy(update={"database_url": own}))) as c:
            res = c.post("/api/incidents", json={"category": "noise", "lon": 120.42, "lat": 30.87, "contact": PHONE})
            assert res.status_code == 201, res.text
        yield own, res.json()["id"]


def sealed(url: str) -> dict[int, bytes]:
    with psycopg.connect(libpq_url(url)) as conn:
        return {i: bytes(t) for i, t in conn.execute(
            "SELECT id, reporter_contact FROM incident WHERE reporter_contact IS NOT NULL")}


def test_keys_kept_in_the_secrets_file_are_rotated_there(monkeypatch, capsys, own_database, settings, tmp_path):
    url, case = own_database
    old = settings.contact_key
    home = tmp_path / "home"
    (home / ".gridgov").mkdir(parents=True)
    (home / ".gridgov" / "secrets.json").write_text(json.dumps(
        {"secret_key": settings.secret_key, "contact_key": old, "qr_key": settings.qr_key}))
    monkeypatch.setenv("GRIDGOV_HOME", str(home))
    monkeypatch.delenv("GRIDGOV_CONTACT_KEY", raising=False)
    before = sealed(url)
    code, out, err = run(monkeypatch, capsys, url, ["secrets", "rotate", "contact"])
    assert code == ExitCode.DONE, err
    new = json.loads((home / ".gridgov" / "secrets.json").read_text())["contact_key"]
    after = sealed(url)
    assert new != old and "," not in new and set(after) == set(before) and f"{len(before):,} contact(s)" in out
    assert contact.unseal(new, after[case]) == PHONE and contact.unseal(old, after[case]) is None
    assert all(contact.unseal(new, after[i]) == contact.unseal(old, before[i]) for i in before)


def test_keys_from_the_environment_are_given_new_first_and_a_wrong_key_changes_nothing(
        monkeypatch, capsys, own_database, settings):
    url, case = own_database
    old, new = settings.contact_key, Fernet.generate_key().decode()
    monkeypatch.setenv("GRIDGOV_CONTACT_KEY", old)
    code, _, err = run(monkeypatch, capsys, url, ["secrets", "rotate", "contact"])
    assert code == ExitCode.USAGE and "NEW,OLD" in said_in_one_line(err), (code, _, err)

    before = sealed(url)
    monkeypatch.setenv("GRIDGOV_CONTACT_KEY", f"{new},{Fernet.generate_key().decode()}")  # not the old key
    code, _, err = run(monkeypatch, capsys, url, ["secrets", "rotate", "contact"])
    assert code == ExitCode.FINDINGS and "nothing changed" in said_in_one_line(err) and sealed(url) == before

    monkeypatch.setenv("GRIDGOV_CONTACT_KEY", f"{new},{old}")
    code, out, err = run(monkeypatch, capsys, url, ["secrets", "rotate", "contact"])
    assert code == ExitCode.DONE and "set GRIDGOV_CONTACT_KEY to it alone" in out, err
    assert contact.unseal(new, sealed(url)[case]) == PHONE  # the new key alone reads it
