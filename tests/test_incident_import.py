"""gridgov import-incidents: a history from another system, checked row by row, routed in bulk,
written once (a second import adds nothing), counted by the heatmap like any other report."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

GRIDGOV = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "gridgov"


def run(settings, *args):
    return subprocess.run([str(GRIDGOV), "import-incidents", *map(str, args)],
                          env={**os.environ, "DATABASE_URL": settings.url}, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def history(engine, tmp_path_factory):
    with engine.connect() as conn:
        grids = conn.execute(sa.text("""SELECT code, ST_X(ST_PointOnSurface(geom)) AS lon,
            ST_Y(ST_PointOnSurface(geom)) AS lat FROM area WHERE kind = 'grid' AND valid_to IS NULL
            ORDER BY code LIMIT 300""")).mappings().all()
    rng = np.random.default_rng(3)
    lines = ["id,lon,lat,category,reported_at,status"]
    for i, g in enumerate(grids):
        day = int(rng.integers(1, 28))
        lines.append(f"old-{i},{g['lon']!r},{g['lat']!r},garbage,2025-03-{day:02d}T10:00:00,closed")
    lines.append("old-outside,121.47,31.23,noise,2025-03-05 08:30,closed")  # Shanghai: kept, unrouted
    path = tmp_path_factory.mktemp("import") / "legacy-12345.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, {f"old-{i}": g["code"] for i, g in enumerate(grids)}


def count(engine, where="TRUE"):
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM incident WHERE source = 'import' AND {where}")).scalar_one()


def test_a_dry_run_writes_nothing(settings, engine, history):
    out = run(settings, history[0], "--dry-run")
    assert out.returncode == 0, out.stderr
    assert "301 rows, no problems" in out.stdout and count(engine) == 0


def test_the_history_is_routed_written_once_and_counted_by_the_heatmap(client, make_user, login, settings, engine,
                                                                       history):
    path, grid_of = history
    out = run(settings, path)
    assert out.returncode == 0, out.stderr
    assert "301 incidents imported, 0 already there, 1 outside every grid" in out.stdout
    with engine.connect() as conn:
        rows = conn.execute(sa.text("""SELECT i.grid_code, i.status, i.closed_at IS NOT NULL AS closed, i.unrouted,
            (SELECT count(*) FROM incident_event e WHERE e.incident_id = i.id AND e.kind = 'imported') AS events
            FROM incident i WHERE i.source = 'import' ORDER BY i.id""")).mappings().all()
    assert sorted(r["grid_code"] for r in rows if r["grid_code"]) == sorted(grid_of.values())
    assert all(r["status"] == "closed" and r["closed"] and r["events"] == 1 for r in rows)
    assert sum(r["unrouted"] for r in rows) == 1
    again = run(settings, path)
    assert again.returncode == 0 and "0 incidents imported, 301 already there" in again.stdout
    assert count(engine) == 301
    admin = login(*make_user("admin", "330503"))
    doc = client.get("/api/heatmap", params={"from": "2025-03-01T00:00:00+08:00", "to": "2025-04-01T00:00:00+08:00",
                                             "source": "import", "resolution": 9}, headers=admin).json()
    assert doc["total"] == 301


def test_bad_rows_are_listed_by_row_and_nothing_is_written(settings, engine, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,lon,lat,category,reported_at\n"
                    "a,120.4,30.8,garbage,2025-01-01T00:00:00\n"
                    "b,30.8,120.4,garbage,2025-01-01T00:00:00\n"
                    "c,120.4,30.8,no_such,2025-01-01T00:00:00\n"
                    "a,120.4,30.8,garbage,yesterday\n"
                    ",120.4,30.8,garbage,2025-01-01T00:00:00\n"
                    "d,120.4,30.8,garbage,9999-12-31T23:59:59-14:00\n"  # year 10000 in UTC
                    "e,120.4,30.8,garbage,0001-01-01T00:00:00+14:00\n", encoding="utf-8")
    before = count(engine)
    out = run(settings, path)
    assert out.returncode == 1
    for text in ("row 3: lat", "row 4: category", "row 5: id", "row 5: reported_at", "row 6: id",
                 "row 7: reported_at: must be between", "row 8: reported_at: must be between"):
        assert text in out.stderr, (text, out.stderr)
    assert count(engine) == before
