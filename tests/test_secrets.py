"""Finding 1: no secret lives in the code.

Before: the JWT secret and the Fernet key had defaults written in the public source, so
anyone could forge a token for any session id. Now each instance generates its own into
``.gridgov/secrets.json`` (mode 600) unless the environment gives them; production refuses
to start without them, and an invalid Fernet key is refused at start, not at the first
report that carries a phone number.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from api.auth import tokens
from api.settings import PROJECT_ROOT, Settings

# the development secret earlier versions shipped in api/settings.py
OLD_PUBLIC_SECRET = "dev-only-secret-change-me-0123456789abcdef"
GRIDGOV = Path(sys.executable).parent / "gridgov"


def test_each_instance_generates_its_own_secrets_once(clean_env, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    first = Settings(home=a)
    path = a / ".gridgov" / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Settings(home=a)
    assert (again.secret_key, again.contact_key) == (first.secret_key, first.contact_key)
    other = Settings(home=b)
    assert other.secret_key != first.secret_key and other.contact_key != first.contact_key
    assert len(first.secret_key) >= 32
    Fernet(first.contact_key.encode())  # a usable key


def test_no_secret_is_in_the_source(clean_env, tmp_path):
    settings = Settings(home=tmp_path)
    for path in list((PROJECT_ROOT / "api").rglob("*.py")) + list((PROJECT_ROOT / "spatial").rglob("*.py")):
        text = path.read_text()
        assert OLD_PUBLIC_SECRET not in text, path
        assert settings.secret_key not in text and settings.contact_key not in text, path
    assert "secret_key" not in repr(settings) or settings.secret_key not in repr(settings)


def test_a_token_signed_with_the_old_public_secret_is_refused(client, make_user, login, settings):
    headers = login(*make_user("dispatcher", "330503"))
    claims = tokens.decode(settings.secret_key, headers["Authorization"].split()[1], "access")
    forged = tokens.access_token(OLD_PUBLIC_SECRET, user_id=int(claims["sub"]), session_id=claims["sid"],
                                 minutes=60 * 24 * 365)
    res = client.get("/api/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert res.status_code == 401 and res.json()["detail"] == "invalid token"


def test_production_refuses_missing_or_weak_secrets(clean_env, tmp_path):
    real_secret, real_hash = "r" + os.urandom(24).hex(), "h" + os.urandom(24).hex()
    real_contact = Fernet.generate_key().decode()
    real_qr = "q" + os.urandom(24).hex()
    keys = {"secret_key": real_secret, "hash_key": real_hash, "contact_key": real_contact, "qr_key": real_qr}
    every = "GRIDGOV_SECRET_KEY, GRIDGOV_HASH_KEY, GRIDGOV_CONTACT_KEY, GRIDGOV_QR_KEY"
    with pytest.raises(ValidationError, match=every):
        Settings(env="production", home=tmp_path)
    assert not (tmp_path / ".gridgov" / "secrets.json").exists()  # production never generates
    for missing in ("contact_key", "qr_key"):
        with pytest.raises(ValidationError, match=f"GRIDGOV_{missing.upper()}"):
            Settings(env="production", home=tmp_path, **{k: v for k, v in keys.items() if k != missing})
    with pytest.raises(ValidationError, match="GRIDGOV_HASH_KEY is not"):  # never guessed from the token key
        Settings(env="production", home=tmp_path, **{k: v for k, v in keys.items() if k != "hash_key"})
    for weak in ("secret_key", "hash_key", "qr_key"):
        with pytest.raises(ValidationError, match=weak.upper()):
            Settings(env="production", home=tmp_path, **{**keys, weak: "short"})
    ok = Settings(env="production", home=tmp_path, **keys, public_url="https://gridgov.example.gov.cn")
    assert (ok.secret_key, ok.hash_key, ok.contact_key, ok.qr_key) == (real_secret, real_hash, real_contact, real_qr)


def test_an_install_from_before_the_hash_key_keeps_its_digests(clean_env, tmp_path):
    """A secrets file written before the hash key existed: its token key keyed the stored digests
    (Open311 API keys, phones, imported ids), so it becomes the hash key; a new install draws its own."""
    old = {"secret_key": "s" * 40, "contact_key": Fernet.generate_key().decode(), "qr_key": "q" * 40}
    (tmp_path / ".gridgov").mkdir()
    (tmp_path / ".gridgov" / "secrets.json").write_text(json.dumps(old))
    upgraded = Settings(home=tmp_path)
    assert upgraded.hash_key == old["secret_key"] and upgraded.secret_key == old["secret_key"]
    assert json.loads((tmp_path / ".gridgov" / "secrets.json").read_text()) == {**old, "hash_key": "s" * 40}
    fresh = Settings(home=tmp_path / "new")
    assert fresh.hash_key != fresh.secret_key and len(fresh.hash_key) >= 32


@pytest.mark.parametrize("env", ["development", "production"])
def test_an_invalid_fernet_key_is_refused_at_start(clean_env, tmp_path, env):
    with pytest.raises(ValidationError, match="not a valid Fernet key"):
        Settings(env=env, home=tmp_path, secret_key="s" * 40, hash_key="h" * 40, contact_key="not-a-fernet-key",
                 qr_key="q" * 40)


def test_new_and_old_qr_keys_need_the_end_of_their_overlap(clean_env, tmp_path):
    keys = {"secret_key": "s" * 40, "hash_key": "h" * 40, "contact_key": Fernet.generate_key().decode()}
    with pytest.raises(ValidationError, match="GRIDGOV_QR_OVERLAP_UNTIL"):
        Settings(home=tmp_path, **keys, qr_key="n" * 40 + "," + "q" * 40)
    with pytest.raises(ValidationError, match="GRIDGOV_QR_KEY"):
        Settings(home=tmp_path, **keys, qr_key="n" * 40 + ",short", qr_overlap_until="2027-06-30")
    both = Settings(home=tmp_path, **keys, qr_key="n" * 40 + "," + "q" * 40, qr_overlap_until="2027-06-30",
                    timezone="Asia/Shanghai")
    assert both.qr_overlap_until.isoformat() == "2027-06-30T00:00:00+08:00"  # without an offset: local time


def test_serve_refuses_to_start_in_production_without_secrets(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDGOV_") and k != "DATABASE_URL"}
    env.update(GRIDGOV_ENV="production", GRIDGOV_HOME=str(tmp_path))
    res = subprocess.run([str(GRIDGOV), "serve", "--port", "1"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 3  # the environment (a setting) is wrong
    assert "GRIDGOV_SECRET_KEY" in res.stderr and "Traceback" not in res.stderr
    env.update(GRIDGOV_SECRET_KEY="s" * 40, GRIDGOV_CONTACT_KEY="bad", GRIDGOV_QR_KEY="q" * 40)
    res = subprocess.run([str(GRIDGOV), "serve", "--port", "1"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 3 and "GRIDGOV_HASH_KEY" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    env.update(GRIDGOV_HASH_KEY="h" * 40)
    res = subprocess.run([str(GRIDGOV), "serve", "--port", "1"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 3 and "Fernet" in res.stderr
