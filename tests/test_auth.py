"""Accounts and sessions: login, short-lived JWTs, refresh rotation, logout, the CLI,
the sample accounts and the production guard on secrets."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from pydantic import ValidationError

from api.auth import passwords, tokens
from api.settings import Settings, libpq_url

DISTRICT = "330503"
GRIDGOV = Path(sys.executable).with_name("gridgov")


def _token(client, username, password):
    return client.post("/api/auth/token", data={"username": username, "password": password})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def street(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT code FROM area WHERE kind = 'street' AND valid_to IS NULL ORDER BY code LIMIT 1")).scalar_one()


# --------------------------------------------------------------------------- login and tokens

def test_login_issues_short_lived_access_and_refresh_tokens(client, settings, make_user):
    username, password = make_user("dispatcher", DISTRICT)
    res = _token(client, username, password)
    assert res.status_code == 200, res.text
    doc = res.json()
    assert doc["token_type"] == "bearer"
    assert doc["expires_in"] == settings.access_token_minutes * 60
    access = jwt.decode(doc["access_token"], settings.secret_key, algorithms=["HS256"], issuer="gridgov")
    refresh = jwt.decode(doc["refresh_token"], settings.secret_key, algorithms=["HS256"], issuer="gridgov")
    assert access["typ"] == "access" and refresh["typ"] == "refresh"
    assert access["exp"] - access["iat"] == settings.access_token_minutes * 60
    assert settings.access_token_minutes <= 60, "access tokens must be short-lived"
    assert refresh["exp"] - refresh["iat"] == settings.refresh_token_days * 86400
    assert access["sid"] == refresh["sid"]
    assert client.get("/api/auth/me", headers=_bearer(doc["access_token"])).status_code == 200


def test_wrong_password_and_unknown_user_look_the_same(client, make_user):
    username, _ = make_user("analyst", DISTRICT)
    wrong = _token(client, username, "not-the-password-1")
    unknown = _token(client, "no-such-user-here", "not-the-password-1")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert "access_token" not in wrong.text


def test_inactive_user_cannot_log_in_and_loses_sessions(client, engine, make_user, login):
    username, password = make_user("analyst", DISTRICT)
    headers = login(username, password)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE app_user SET active = false WHERE username = :u"), {"u": username})
    assert _token(client, username, password).status_code == 401
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_tokens_are_not_interchangeable_and_unsigned_tokens_are_refused(client, settings, make_user):
    doc = _token(client, *make_user("analyst", DISTRICT)).json()
    # a refresh token is no bearer token, and an access token does not refresh
    assert client.get("/api/auth/me", headers=_bearer(doc["refresh_token"])).status_code == 401
    assert client.post("/api/auth/refresh", json={"refresh_token": doc["access_token"]}).status_code == 401
    claims = jwt.decode(doc["access_token"], settings.secret_key, algorithms=["HS256"], issuer="gridgov")
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    assert client.get("/api/auth/me", headers=_bearer(unsigned)).status_code == 401
    expired = tokens.access_token(settings.secret_key, user_id=int(claims["sub"]), session_id=claims["sid"],
                                  minutes=-1)
    res = client.get("/api/auth/me", headers=_bearer(expired))
    assert res.status_code == 401 and "expired" in res.json()["detail"]


def test_refresh_rotates_and_a_replay_ends_the_session(client, make_user):
    first = _token(client, *make_user("grid_worker", DISTRICT)).json()
    res = client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert res.status_code == 200, res.text
    second = res.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/api/auth/me", headers=_bearer(second["access_token"])).status_code == 200

    # the old refresh token is spent; replaying it is taken as theft and ends the session
    replay = client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    assert client.post("/api/auth/refresh", json={"refresh_token": second["refresh_token"]}).status_code == 401
    assert client.get("/api/auth/me", headers=_bearer(second["access_token"])).status_code == 401
    assert client.get("/api/auth/me", headers=_bearer(first["access_token"])).status_code == 401


def test_logout_revokes_this_session_only(client, make_user):
    username, password = make_user("officer", DISTRICT)
    mine = _token(client, username, password).json()
    other = _token(client, username, password).json()
    assert client.post("/api/auth/logout", headers=_bearer(mine["access_token"])).status_code == 204
    assert client.get("/api/auth/me", headers=_bearer(mine["access_token"])).status_code == 401
    assert client.post("/api/auth/refresh", json={"refresh_token": mine["refresh_token"]}).status_code == 401
    assert client.get("/api/auth/me", headers=_bearer(other["access_token"])).status_code == 200


def test_me_lists_grants(client, make_user, login, street):
    headers = login(*make_user("dispatcher", street, grants=[("analyst", DISTRICT)]))
    doc = client.get("/api/auth/me", headers=headers).json()
    assert doc["roles"] == ["analyst", "dispatcher"]
    assert sorted((g["role"], g["area_code"]) for g in doc["grants"]) == [("analyst", DISTRICT),
                                                                        ("dispatcher", street)]
    assert "password" not in str(doc) and "hash" not in str(doc)


def test_login_is_audited(engine, client, make_user):
    username, password = make_user("analyst", DISTRICT)
    _token(client, username, "wrong-password-1")
    _token(client, username, password)
    with engine.connect() as conn:
        actions = [r.action for r in conn.execute(sa.text(
            "SELECT action FROM audit_log WHERE actor = :u ORDER BY id"), {"u": username})]
    assert actions == ["login_failed", "login"]


# --------------------------------------------------------------------------- CLI

@pytest.fixture(scope="module")
def cli(database_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDGOV_") and k != "DATABASE_URL"}
    env["DATABASE_URL"] = libpq_url(database_url)  # a plain postgresql:// URL, as an operator would give
    assert env["DATABASE_URL"].startswith("postgresql://")

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([str(GRIDGOV), "user", *args], input=stdin, capture_output=True, text=True,
                              env=env, timeout=60)

    return run


def test_cli_user_lifecycle(cli, client, engine, street):
    username = f"cli-{os.getpid()}"
    password = "cli-password-" + os.urandom(4).hex()
    res = cli("add", username, "--name", "CLI tester", "--password-stdin", stdin=password + "\n")
    assert res.returncode == 0, res.stderr
    assert password not in res.stdout  # a password given on stdin is never echoed

    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT password_hash FROM app_user WHERE username = :u"),
                              {"u": username}).scalar_one()
    assert stored.startswith("$argon2")
    assert password not in stored
    assert passwords.verify_password(password, stored)

    res = cli("grant", username, "dispatcher", street)
    assert res.returncode == 0, res.stderr
    line = next(ln for ln in cli("list").stdout.splitlines() if ln.startswith(username))
    assert f"dispatcher@{street}" in line

    doc = _token(client, username, password).json()
    me = client.get("/api/auth/me", headers=_bearer(doc["access_token"])).json()
    assert me["grants"] == [{"role": "dispatcher", "area_code": street}]

    with engine.connect() as conn:
        audit = conn.execute(sa.text("""SELECT actor, after FROM audit_log
            WHERE entity = 'user' AND entity_id = :u AND action = 'grant'"""), {"u": username}).one()
    assert audit.after == {"role": "dispatcher", "area_code": street}

    res = cli("revoke", username, "dispatcher", street)
    assert res.returncode == 0 and "revoked 1" in res.stdout
    line = next(ln for ln in cli("list").stdout.splitlines() if ln.startswith(username))
    assert f"dispatcher@{street}" not in line
    # the revocation holds at once for the live session
    assert client.get("/api/auth/me", headers=_bearer(doc["access_token"])).status_code == 403


def test_cli_add_without_password_generates_a_random_one(cli, client):
    outputs = [cli("add", f"cli-rand-{os.getpid()}-{i}") for i in range(2)]
    pw = []
    for i, res in enumerate(outputs):
        assert res.returncode == 0, res.stderr
        pw.append(res.stdout.rsplit(":", 1)[1].strip())
        assert len(pw[-1]) >= 16
        assert _token(client, f"cli-rand-{os.getpid()}-{i}", pw[-1]).status_code == 200
    assert pw[0] != pw[1]


@pytest.mark.parametrize("args, message", [
    (("grant", "{user}", "superuser", DISTRICT), "unknown role"),
    (("grant", "{user}", "dispatcher", "999999999"), "unknown area"),
    (("grant", "no-such-user-x", "dispatcher", DISTRICT), "no user"),
    (("add", "{user}"), "already exists"),
    (("add", "weak-pass-user", "--password-stdin"), "at least"),
])
def test_cli_refuses_bad_input(cli, make_user, engine, args, message):
    user, _ = make_user()
    res = cli(*(a.format(user=user) for a in args), stdin="short\n")
    assert res.returncode != 0
    assert message in res.stderr, res.stderr
    with engine.connect() as conn:
        grants = conn.execute(sa.text("""SELECT count(*) FROM role_grant g JOIN app_user u ON u.id = g.user_id
            WHERE u.username = :u"""), {"u": user}).scalar_one()
        weak = conn.execute(sa.text("SELECT count(*) FROM app_user WHERE username = 'weak-pass-user'")).scalar_one()
    assert grants == 0 and weak == 0


# --------------------------------------------------------------------------- sample accounts

DEFAULT_PASSWORDS = {"admin", "password", "admin123", "123456", "12345678", "changeme", "gridgov", "secret",
                     "test", "test-password-123", "nanxun", "dispatcher", "password123"}


def test_sample_accounts_random_passwords_file_600_once(settings, tmp_path):
    from api.sample_accounts import CREDENTIALS_FILE, create_sample_accounts, sample_accounts
    from tests import pg_support as pg

    async def scenario():
        async with await pg.connect(settings) as conn:
            accounts, _ = await sample_accounts(conn)
            names = [a[0] for a in accounts]
            results = []
            for run_dir in (tmp_path / "one", tmp_path / "two"):  # two fresh databases, in effect
                await pg.rows(conn, "DELETE FROM app_user WHERE username = ANY(:n)", {"n": names})
                run_dir.mkdir()
                (run_dir / CREDENTIALS_FILE).touch(mode=0o644)  # a stray readable file gets locked down
                created, path = await create_sample_accounts(conn, run_dir)
                first_text = path.read_text()
                again, _ = await create_sample_accounts(conn, run_dir)
                hashes = dict(await pg.rows(
                    conn, "SELECT username, password_hash FROM app_user WHERE username = ANY(:n)", {"n": names}))
                grants = await pg.rows(conn, """
                    SELECT u.username, g.role, g.area_code, u.unit_code FROM app_user u
                    JOIN role_grant g ON g.user_id = u.id WHERE u.username = ANY(:n)""", {"n": names})
                results.append((created, again, path, first_text, hashes, grants))
            await conn.rollback()
            return accounts, results

    accounts, results = asyncio.run(scenario())
    roles = {a[1] for a in accounts}
    assert roles == {"admin", "dispatcher", "grid_manager", "grid_worker", "officer", "analyst"}
    run_passwords = []
    for created, again, path, text, hashes, grants in results:
        assert created == len(accounts)
        assert again == 0, "a second run creates nothing"
        assert path.read_text() == text, "a second run leaves the credentials file alone"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        creds = dict(line.split("\t")[:2] for line in text.splitlines() if line and not line.startswith("#"))
        assert set(creds) == {a[0] for a in accounts}
        assert len(set(creds.values())) == len(creds), "no two accounts share a password"
        for username, password in creds.items():
            assert password.lower() not in DEFAULT_PASSWORDS and len(password) >= 16
            assert hashes[username].startswith("$argon2") and password not in hashes[username]
        assert all(passwords.verify_password(creds[u], hashes[u]) for u in ("admin", "officer"))
        assert {(u, r, a, unit) for u, r, a, unit in grants} == set(accounts)
        run_passwords.append(creds)
    one, two = run_passwords
    assert all(one[u] != two[u] for u in one), "each load draws new passwords"


# --------------------------------------------------------------------------- production guard

def test_production_is_read_from_the_environment(clean_env):
    clean_env.setenv("GRIDGOV_ENV", "production")
    with pytest.raises(ValidationError):
        Settings()
    clean_env.setenv("GRIDGOV_SECRET_KEY", "e" + os.urandom(24).hex())
    clean_env.setenv("GRIDGOV_HASH_KEY", "h" + os.urandom(24).hex())
    clean_env.setenv("GRIDGOV_CONTACT_KEY", Fernet.generate_key().decode())
    with pytest.raises(ValidationError, match="GRIDGOV_QR_KEY"):
        Settings()
    clean_env.setenv("GRIDGOV_QR_KEY", "q" + os.urandom(24).hex())
    with pytest.raises(ValidationError, match="GRIDGOV_PUBLIC_URL"):
        Settings()
    clean_env.setenv("GRIDGOV_PUBLIC_URL", "https://gridgov.example.gov.cn/")
    assert Settings().env == "production" and Settings().public_url == "https://gridgov.example.gov.cn"


def test_credentials_file_keeps_one_line_per_account(tmp_path):
    """After a database reset the sample accounts are made anew: their new passwords replace the old lines."""
    from api.sample_accounts import record_passwords

    path = tmp_path / "sample-credentials.txt"
    record_passwords(path, ["admin\told-pass\tadmin@330503", "officer\told-officer\tofficer@330503"])
    record_passwords(path, ["officer\tnew-officer\tofficer@330503"])
    rows = [line.split("\t") for line in path.read_text().splitlines() if not line.startswith("#")]
    assert rows == [["admin", "old-pass", "admin@330503"], ["officer", "new-officer", "officer@330503"]]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
