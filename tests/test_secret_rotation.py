"""Rotating keys. contact: every stored contact is re-encrypted under the new key in one
transaction and reads under it afterwards; a key that reads nothing changes nothing. jwt: every
session ends, the digests keyed with the hash key (Open311 API keys) keep working. qr: old
posters keep working during the overlap, are flagged after it, and their grids are listed for
reprint. Runs on a database of its own (the other tests' app keeps the keys it started with)."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from api import clock, contact, qr
from api.cli_exit import ExitCode
from api.main import create_app
from api.settings import Settings, libpq_url
from tests.pg_support import sample_database, scratch_database
from tests.test_cli_exits import fresh_settings, run, said_in_one_line  # noqa: F401 (fixture)
from tests.test_qr import decode_qr

PHONE = "13800138000"


@pytest.fixture
def own_database(database_url, settings):
    """A copy of the sample database with one report that left a phone number."""
    with scratch_database(database_url, "keys", template=sample_database(settings)) as own:
        with TestClient(create_app(settings.model_copy(update={"database_url": own}))) as c:
            admin = {"Authorization": "Bearer " + c.post("/api/auth/token", data=dict(zip(
                ("username", "password"), _admin(own), strict=True))).json()["access_token"]}
            shop = c.post("/api/places", headers=admin, json={"code": "K-1", "category": "shop", "name": "shop",
                                                              "contact": PHONE, "lon": 120.42, "lat": 30.87})
            assert shop.status_code == 201, shop.text
            res = c.post("/api/incidents", json={"category": "noise", "lon": 120.42, "lat": 30.87, "contact": PHONE})
            assert res.status_code == 201, res.text
        yield own, res.json()["id"]


def _admin(url: str) -> tuple[str, str]:
    """An admin account in the scratch database (for a place with a contact)."""
    from api.auth.passwords import hash_password

    with psycopg.connect(libpq_url(url)) as conn:
        uid = conn.execute("INSERT INTO app_user (username, password_hash) VALUES ('keys-admin', %s) RETURNING id",
                           (hash_password("keys-admin-password"),)).fetchone()[0]
        conn.execute("INSERT INTO role_grant (user_id, role, area_code) VALUES (%s, 'admin', '330503')", (uid,))
    return "keys-admin", "keys-admin-password"


def place_sealed(url: str) -> bytes:
    with psycopg.connect(libpq_url(url)) as conn:
        return bytes(conn.execute("SELECT contact FROM place WHERE code = 'K-1'").fetchone()[0])


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
        {"secret_key": settings.secret_key, "hash_key": settings.hash_key, "contact_key": old,
         "qr_key": settings.qr_key}))
    monkeypatch.setenv("GRIDGOV_HOME", str(home))
    monkeypatch.delenv("GRIDGOV_CONTACT_KEY", raising=False)
    before = sealed(url)
    code, out, err = run(monkeypatch, capsys, url, ["secrets", "rotate", "contact"])
    assert code == ExitCode.DONE, err
    new = json.loads((home / ".gridgov" / "secrets.json").read_text())["contact_key"]
    after = sealed(url)
    assert new != old and "," not in new and set(after) == set(before) and f"{len(before) + 1:,} contact(s)" in out
    assert contact.unseal(new, after[case]) == PHONE and contact.unseal(old, after[case]) is None
    assert contact.unseal(new, place_sealed(url)) == PHONE  # the places register's contacts too
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


KEY_VARIABLES = ("GRIDGOV_SECRET_KEY", "GRIDGOV_HASH_KEY", "GRIDGOV_CONTACT_KEY", "GRIDGOV_QR_KEY",
                 "GRIDGOV_QR_OVERLAP_UNTIL")


@pytest.fixture
def home(monkeypatch, settings, tmp_path) -> Path:
    """A GRIDGOV_HOME whose secrets file holds the test app's keys, none given by the environment."""
    home = tmp_path / "home"
    (home / ".gridgov").mkdir(parents=True)
    (home / ".gridgov" / "secrets.json").write_text(json.dumps(
        {k: getattr(settings, k) for k in ("secret_key", "hash_key", "contact_key", "qr_key")}))
    monkeypatch.setenv("GRIDGOV_HOME", str(home))
    for name in KEY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return home


def stored_keys(home: Path) -> dict[str, str]:
    return json.loads((home / ".gridgov" / "secrets.json").read_text())


def served(settings, url: str, home: Path) -> TestClient:
    """The app as a restarted server sees it: the keys read again from the secrets file."""
    fresh = Settings(env="test", home=home, database_url=url, public_rate_per_minute=100_000,
                     public_ip_rate_per_minute=100_000, supervision_interval_s=0)
    return TestClient(create_app(fresh))


def test_rotating_the_token_key_ends_every_session_and_keeps_the_api_keys(monkeypatch, capsys, own_database,
                                                                           settings, home):
    url, _ = own_database
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password-4711\n"))
    code, _, err = run(monkeypatch, capsys, url, ["user", "add", "rotated", "--password-stdin"])
    assert code == ExitCode.DONE, err
    code, _, err = run(monkeypatch, capsys, url, ["user", "grant", "rotated", "dispatcher", "330503"])
    assert code == ExitCode.DONE, err
    code, out, err = run(monkeypatch, capsys, url, ["apikey", "add", "a client app"])
    assert code == ExitCode.DONE, err
    api_key = re.search(r"api_key \(shown once\): (\S+)", out)[1]
    before = stored_keys(home)
    with served(settings, url, home) as c:
        pair = c.post("/api/auth/token", data={"username": "rotated", "password": "a-long-password-4711"}).json()
        old = {"Authorization": f"Bearer {pair['access_token']}"}
        assert c.get("/api/auth/me", headers=old).status_code == 200

        code, out, err = run(monkeypatch, capsys, url, ["secrets", "rotate", "jwt"])
        assert code == ExitCode.DONE and "session(s) ended" in out and "restart the server" in out, (out, err)
        # ended in the database, before the restart: the server hears it from the sessions' change
        # note, which arrives on its listening connection a moment after the command commits
        deadline = time.monotonic() + 20
        while (status := c.get("/api/auth/me", headers=old).status_code) == 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert status == 401
    after = stored_keys(home)
    assert after["secret_key"] != before["secret_key"] and after["hash_key"] == before["hash_key"]
    assert {k: v for k, v in after.items() if k != "secret_key"} == {k: v for k, v in before.items()
                                                                     if k != "secret_key"}
    with served(settings, url, home) as c:
        assert c.get("/api/auth/me", headers=old).status_code == 401
        res = c.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert res.status_code == 401, res.text
        login = c.post("/api/auth/token", data={"username": "rotated", "password": "a-long-password-4711"})
        assert login.status_code == 200, login.text
        new = {"Authorization": f"Bearer {login.json()['access_token']}"}
        assert c.get("/api/auth/me", headers=new).json()["username"] == "rotated"
        res = c.post("/open311/v2/requests.json", data={"api_key": api_key, "service_code": "noise",
                                                        "lat": "30.87", "long": "120.42"})
        assert res.status_code == 201, res.text  # the API key made before still works
    with psycopg.connect(libpq_url(url)) as conn:
        assert conn.execute("SELECT count(*) FROM auth_session s JOIN app_user u ON u.id = s.user_id "
                            "WHERE u.username = 'rotated' AND s.revoked_at IS NULL").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM audit_log WHERE action = 'rotate_token_key'").fetchone()[0] == 1


def test_the_token_key_from_the_environment_needs_the_hash_key_and_is_named_to_set(monkeypatch, capsys,
                                                                                     own_database, settings, home):
    url, _ = own_database
    monkeypatch.setenv("GRIDGOV_SECRET_KEY", settings.secret_key)
    code, _, err = run(monkeypatch, capsys, url, ["secrets", "rotate", "jwt"])
    assert code == ExitCode.ENVIRONMENT and "GRIDGOV_HASH_KEY" in said_in_one_line(err), err
    monkeypatch.setenv("GRIDGOV_HASH_KEY", settings.hash_key)
    code, out, err = run(monkeypatch, capsys, url, ["secrets", "rotate", "jwt"])
    assert code == ExitCode.DONE and "set GRIDGOV_SECRET_KEY to a new random value" in out, err
    assert stored_keys(home)["secret_key"] == settings.secret_key  # the file is not where that key lives


def grid_at(url: str) -> dict:
    """A grid of the sample, and a point inside it away from its neighbours."""
    with psycopg.connect(libpq_url(url)) as conn:
        code, lon, lat = conn.execute("""
            SELECT g.code, ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom))
            FROM area_current g WHERE g.kind = 'grid'
              AND NOT EXISTS (SELECT 1 FROM area_current o WHERE o.kind = 'grid' AND o.code <> g.code
                              AND ST_DWithin(o.geom::geography, ST_PointOnSurface(g.geom)::geography, 60))
            ORDER BY g.code LIMIT 1""").fetchone()
    return {"code": code, "lon": lon, "lat": lat}


def qr_report(c: TestClient, grid: dict, sig: str) -> list[str]:
    """The QR flags of a report sent through a poster with ``sig`` (routing flags like
    no_available_unit left out)."""
    res = c.post("/api/incidents", json={"category": "garbage", "lon": grid["lon"], "lat": grid["lat"],
                                         "source": "qr", "qr_grid": grid["code"], "qr_sig": sig})
    assert res.status_code == 201, res.text
    return [f for f in res.json()["routing"]["flags"] if f.startswith("qr_")]


def test_rotating_the_qr_key_keeps_old_posters_working_for_the_overlap_then_lists_them_for_reprint(
        monkeypatch, capsys, own_database, settings, home, tmp_path):
    url, _ = own_database
    grid = grid_at(url)
    old_key = settings.qr_key
    old_sig = qr.signature(old_key, grid["code"])  # what the posters on the walls carry
    code, out, err = run(monkeypatch, capsys, url, ["qr", "stale"])
    assert code == ExitCode.DONE and "no reports" in out, err

    code, out, err = run(monkeypatch, capsys, url, ["secrets", "rotate", "qr", "--overlap-days", "30"])
    assert code == ExitCode.DONE and "gridgov qr stale" in out and "restart the server" in out, err
    keys = stored_keys(home)
    new_key, previous = keys["qr_key"].split(",")
    assert previous == old_key and new_key != old_key
    until = datetime.fromisoformat(keys["qr_overlap_until"])
    assert timedelta(days=29) < until - datetime.now(UTC) <= timedelta(days=30)
    code, _, err = run(monkeypatch, capsys, url, ["secrets", "rotate", "qr"])  # during the overlap: not again
    assert code == ExitCode.USAGE and "--force" in said_in_one_line(err)
    assert stored_keys(home) == keys

    assert shutil.which("pdftoppm"), "make test installs poppler-utils"
    code, _, err = run(monkeypatch, capsys, url, ["qr", "--area", grid["code"], "--format", "pdf",
                                                  "--out", tmp_path / "posters"])
    assert code == ExitCode.DONE, err
    subprocess.run(["pdftoppm", "-r", "100", "-png", "-singlefile", str(tmp_path / "posters" /
                    f"poster-{grid['code']}.pdf"), str(tmp_path / "page")], check=True, timeout=60)
    [link] = decode_qr(tmp_path / "page.png")
    printed = parse_qs(urlsplit(link).query)
    assert printed["g"] == [grid["code"]] and qr.verify(new_key, grid["code"], printed["s"][0])
    assert not qr.verify(old_key, grid["code"], printed["s"][0])

    with served(settings, url, home) as c:
        assert qr_report(c, grid, printed["s"][0]) == []  # a new poster
        assert "qr_bad_signature" in qr_report(c, grid, old_sig[:-2] + "AA")  # forged, as before
        with clock.fixed(until - timedelta(days=1)):
            assert qr_report(c, grid, old_sig) == []  # an old poster, inside the overlap: accepted
        code, out, err = run(monkeypatch, capsys, url, ["qr", "stale", "--json"])
        assert code == ExitCode.FINDINGS, err
        [row] = json.loads(out)["grids"]
        assert row["grid_code"] == grid["code"] and row["scans"] == 1 and row["refused"] == 0
        assert datetime.fromisoformat(row["last_scan_at"]) == until - timedelta(days=1)

        with clock.fixed(until + timedelta(minutes=1)):
            assert "qr_bad_signature" in qr_report(c, grid, old_sig)  # after it: refused like a forgery
            assert qr_report(c, grid, printed["s"][0]) == []
    code, out, err = run(monkeypatch, capsys, url, ["qr", "stale"])
    assert code == ExitCode.FINDINGS and grid["code"] in out and "2 scan(s)" in out and "1 after the overlap" in out
    code, out, err = run(monkeypatch, capsys, url, ["qr", "stale", "--since", (until + timedelta(days=2)).date()])
    assert code == ExitCode.DONE and "no reports" in out, err

    code, out, err = run(monkeypatch, capsys, url, ["secrets", "rotate", "qr", "--force"])  # a second rotation
    assert code == ExitCode.DONE, err
    assert stored_keys(home)["qr_key"].split(",")[1] == new_key  # the one before is dropped
