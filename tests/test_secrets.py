"""Finding 1: no secret lives in the code.

Before: the JWT secret and the Fernet key had defaults written in the public source, so
anyone could forge a token for any session id. Now each instance generates its own into
``.gridgov/secrets.json`` (mode 600) unless the environment gives them; production refuses
to start without them, and an invalid Fernet key is refused at start, not at the first
report that carries a phone number.
"""

from __future__ import annotations

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
    real_secret = "r" + os.urandom(24).hex()
    real_contact = Fernet.generate_key().decode()
    real_qr = "q" + os.urandom(24).hex()
    with pytest.raises(ValidationError, match="GRIDGOV_SECRET_KEY, GRIDGOV_CONTACT_KEY, GRIDGOV_QR_KEY"):
        Settings(env="production", home=tmp_path)
    assert not (tmp_path / ".gridgov" / "secrets.json").exists()  # production never generates
    with pytest.raises(ValidationError, match="GRIDGOV_CONTACT_KEY"):
        Settings(env="production", home=tmp_path, secret_key=real_secret, qr_key=real_qr)
    with pytest.raises(ValidationError, match="GRIDGOV_QR_KEY"):
        Settings(env="production", home=tmp_path, secret_key=real_secret, contact_key=real_contact)
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(env="production", home=tmp_path, secret_key="short", contact_key=real_contact, qr_key=real_qr)
    with pytest.raises(ValidationError, match="QR_KEY"):
        Settings(env="production", home=tmp_path, secret_key=real_secret, contact_key=real_contact, qr_key="short")
    ok = Settings(env="production", home=tmp_path, secret_key=real_secret, contact_key=real_contact, qr_key=real_qr,
                  public_url="https://gridgov.example.gov.cn")
    assert ok.secret_key == real_secret and ok.contact_key == real_contact and ok.qr_key == real_qr


@pytest.mark.parametrize("env", ["development", "production"])
def test_an_invalid_fernet_key_is_refused_at_start(clean_env, tmp_path, env):
    with pytest.raises(ValidationError, match="not a valid Fernet key"):
        Settings(env=env, home=tmp_path, secret_key="s" * 40, contact_key="not-a-fernet-key", qr_key="q" * 40)


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
    assert res.returncode == 3 and "Fernet" in res.stderr
