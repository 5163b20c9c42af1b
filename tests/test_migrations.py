"""Migrations on a database that already holds data: down and up again keep it usable.

The foundation-repair migration forgets callers' raw Idempotency-Keys; it must keep the
sample loader's own keys, or reloading the sample (``make run`` does it every time) would
try to insert the sample incidents a second time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from api.settings import libpq_url

GRIDGOV = Path(sys.executable).with_name("gridgov")


def test_down_and_up_again_then_the_sample_reloads_as_a_no_op(database_url, engine):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDGOV_") and k != "DATABASE_URL"}
    env["DATABASE_URL"] = libpq_url(database_url)

    def gridgov(*args):
        res = subprocess.run([str(GRIDGOV), *args], env=env, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr[-2000:]
        return res.stdout

    with engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM incident")).scalar_one()
    gridgov("migrate", "0003_unit_available_index")
    gridgov("migrate")
    out = gridgov("load-sample")
    assert "incidents 0" in out and "areas 0" in out, out
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM incident")).scalar_one() == before
        assert conn.execute(sa.text(
            "SELECT count(*) FROM incident WHERE idempotency_key LIKE 'sample:%'")).scalar_one() > 0
