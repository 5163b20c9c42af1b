"""The command line an operator can trust: every command, run with the database down or given a
bad file, ends in one line saying what is wrong and the documented exit code (0 done,
1 findings, 2 usage, 3 environment), never a traceback. The commands run in this process
through ``api.cli.main``, as the ``gridgov`` script runs them."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
import typer.main

from api.backup import code_head
from api.cli import app, main
from api.cli_exit import ExitCode
from api.settings import get_settings
from tests.calendar_support import statutory_schedule

CHECKLISTS = str(Path(__file__).resolve().parents[1] / "sample_geodata" / "templates" / "checklists.json")

DOWN = "postgresql://gridgov@127.0.0.1:1/gridgov"  # nothing listens on port 1
# `serve` is left out: with the database down it starts and waits for it, as a service under
# systemd must (the fault tests kill and restart the database under a serving app)
NOT_RUN = {("serve",)}


def leaf_commands() -> set[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()

    def walk(cmd, path: tuple[str, ...]) -> None:  # typer's own click: a group is what has commands
        if hasattr(cmd, "commands"):
            if path and getattr(cmd, "invoke_without_command", False):
                found.add(path)  # `gridgov calendar` runs by itself too
            for name, sub in cmd.commands.items():
                walk(sub, (*path, name))
        else:
            found.add(path)

    walk(typer.main.get_command(app), ())
    return found


@pytest.fixture
def files(tmp_path):
    good_csv = tmp_path / "points.csv"
    good_csv.write_text("id,lon,lat,category,reported_at\na1,120.42,30.87,street_vendor,2026-11-02T10:00:00+08:00\n")
    header_only = tmp_path / "header.csv"
    header_only.write_text("id,lon,lat\n")
    broken_json = tmp_path / "broken.geojson"
    broken_json.write_text('{"type": "FeatureCollection", "features": [')
    not_gpkg = tmp_path / "garbage.gpkg"
    not_gpkg.write_bytes(b"\xff\xfe not a GeoPackage")
    grid = tmp_path / "grid.geojson"
    grid.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"code": "X1", "name": "x"},
        "geometry": {"type": "Polygon", "coordinates": [[[120.4, 30.8], [120.41, 30.8], [120.41, 30.81],
                                                         [120.4, 30.8]]]}}]}))
    schedule = tmp_path / "schedule.json"
    schedule.write_text(json.dumps(statutory_schedule(2033)))
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    archive = tmp_path / "backup.tar"  # a well-formed archive of this gridgov's revision
    with tarfile.open(archive, "w") as tar:
        for name, data in (("manifest.json", json.dumps({"format": 1, "revision": code_head(), "tables": {}})),
                           ("secrets.json", "{}"), ("database.dump", "")):
            info = tarfile.TarInfo(name)
            info.size = len(data.encode())
            tar.addfile(info, io.BytesIO(data.encode()))
    return {"good_csv": good_csv, "header_only": header_only, "broken_json": broken_json, "not_gpkg": not_gpkg,
            "grid": grid, "schedule": schedule, "archive": archive, "missing": tmp_path / "missing.csv",
            "under_a_file": a_file / "out", "out": tmp_path}


def run(monkeypatch, capsys, url: str, argv: list[str]) -> tuple[int, str, str]:
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    capsys.readouterr()  # what came before (a fixture's server logs) is not the command's
    try:
        with pytest.raises(SystemExit) as ended:
            main([str(a) for a in argv])
    finally:
        get_settings.cache_clear()
    out, err = capsys.readouterr()
    return int(ended.value.code or 0), out, err


@pytest.fixture(autouse=True)
def fresh_settings():
    yield
    get_settings.cache_clear()  # the next test reads its own environment again


def said_in_one_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


def test_every_command_says_in_one_line_that_the_database_is_down(monkeypatch, capsys, files, tmp_path):
    monkeypatch.setenv("GRIDGOV_HOME", str(tmp_path / "home"))  # no command may touch the checkout's secrets
    monkeypatch.delenv("GRIDGOV_CONTACT_KEY", raising=False)
    from api.stars.config import default_document

    stars_config = tmp_path / "stars.json"  # a valid file: the database is what is missing
    stars_config.write_text(json.dumps(default_document()))
    commands = {
        ("db", "start"): [], ("db", "stop"): [], ("db", "psql"): [], ("migrate",): [], ("load-sample",): [],
        ("refresh-units",): [], ("qr",): ["--area", "330503", "--out", files["out"]],
        ("report", "heatmap"): ["--from", "2026-01-01", "--to", "2026-02-01", "--out", files["out"] / "h.html"],
        ("report", "monthly"): ["--area", "330503", "--month", "2026-01", "--out", files["out"]],
        ("routing-index", "rebuild"): [], ("route-file",): [files["good_csv"], files["out"] / "routed.csv"],
        ("import-incidents",): [files["good_csv"]], ("supervise",): [], ("validate",): [], ("calendar",): [],
        ("calendar", "load"): [files["schedule"]], ("route",): ["120.42", "30.87", "-c", "street_vendor"],
        ("user", "add"): ["someone"], ("user", "grant"): ["someone", "dispatcher", "330503"],
        ("user", "revoke"): ["someone", "dispatcher"], ("user", "deactivate"): ["someone"],
        ("user", "activate"): ["someone"], ("user", "password"): ["someone"], ("user", "list"): [],
        ("user", "token"): ["someone"],
        ("apikey", "add"): ["an app"],
        ("apikey", "list"): [], ("apikey", "revoke"): ["an app"],
        ("import",): [files["grid"], "--layer", "grid", "--parent", "330503"],
        ("export",): ["--layer", "grid", "--out", files["out"] / "grids.gpkg"],
        ("categories",): [], ("secrets", "rotate", "contact"): [],
        ("secrets", "rotate", "jwt"): [], ("secrets", "rotate", "qr"): ["--overlap-days", "90"],
        ("qr", "stale"): [], ("district", "add"): ["330502"],
        ("district", "settings"): [], ("district", "set"): ["330503", "--office-hours", "08:30-17:30"],
        ("backup",): [files["out"] / "new-backup.tar"],
        ("restore",): [files["archive"]],
        ("db", "status"): [],
        ("roster", "import"): [files["good_csv"]], ("roster", "template"): ["units", "--out", files["out"] / "u.xlsx"],
        ("kpis", "doc"): ["--out", files["out"] / "kpis.md"],
        ("survey", "open"): ["--street", "330503100", "--from", "2026-10-01", "--to", "2026-12-31"],
        ("survey", "close"): ["1"], ("survey", "list"): [], ("survey", "scores"): ["1"],
        ("survey", "poster"): ["--street", "330503100", "--out", files["out"]],
        ("survey", "followup"): ["1", "--indicator", "parking", "--owner", "enforcement", "--measures", "m",
                                 "--deadline", "2027-03-31"],
        ("survey", "progress"): ["1", "--status", "done"],
        ("places", "import"): [files["good_csv"]], ("places", "export"): ["--out", files["out"] / "places.gpkg"],
        ("places", "aggregate"): ["330503001001001", "--as-of", "2026-11-30", "--source", "survey",
                                  "--households", "10"],
        ("places", "aggregates"): [],
        ("inspections", "checklist", "import"): [CHECKLISTS],
        ("inspections", "checklist", "list"): [],
        ("inspections", "checklist", "export"): ["--out", files["out"] / "checklists.json"],
        ("inspections", "due"): ["330503-Z10", "--day", "2099-01-05"],
        ("inspections", "plan"): ["330503-Z10", "--day", "2099-01-05", "--team", "U-fire-003"],
        ("inspections", "figures"): ["--from", "2026-01-01", "--to", "2026-12-31"],
        ("stars", "compute"): ["--month", "2026-10"], ("stars", "list"): ["--month", "2026-10"],
        ("stars", "config", "show"): [], ("stars", "config", "set"): ["--file", stars_config, "--district", "330503"],
        ("cluster", "up"): [], ("cluster", "down"): [], ("cluster", "status"): [],
    }
    assert set(commands) | NOT_RUN == leaf_commands(), "a command was added: say here how it fails"
    get_settings.cache_clear()  # another module's test may have left the settings of another home cached
    get_settings()  # the instance's keys, made now
    keys = json.loads((tmp_path / "home" / ".gridgov" / "secrets.json").read_text())
    get_settings.cache_clear()
    for path, args in commands.items():
        if path == ("cluster", "up"):  # it needs no database but Patroni and etcd: here they are missing
            with monkeypatch.context() as no_programs:
                no_programs.setenv("PATH", str(tmp_path / "no-programs"))
                code, out, err = run(monkeypatch, capsys, DOWN, [*path, *args])
            line = said_in_one_line(err)
            assert code == ExitCode.ENVIRONMENT and "patroni and etcd not installed" in line \
                and "apt-get install" in line, (code, line)
            continue
        code, out, err = run(monkeypatch, capsys, DOWN, [*path, *args])
        if path == ("cluster", "down"):  # none here: nothing to stop
            assert code == ExitCode.DONE and "nothing was running" in said_in_one_line(out), (out, err)
        elif path == ("cluster", "status"):  # it reports every node stopped, and no leader by its exit code
            assert code == ExitCode.ENVIRONMENT and out.count(": stopped, stopped") == 3, (out, err)
        elif path == ("db", "status"):  # it reports, and says by its exit code that the database is down
            assert code == ExitCode.ENVIRONMENT and "NOT reachable" in said_in_one_line(out), (out, err)
        elif path == ("db", "stop"):  # nothing embedded to stop: a usage error, said as such
            assert code == ExitCode.USAGE and "DATABASE_URL" in said_in_one_line(err)
        elif path == ("roster", "template"):  # it needs no database: the template is written
            assert code == ExitCode.DONE and (files["out"] / "u.xlsx").is_file(), (out, err)
        elif path == ("kpis", "doc"):  # the definitions need no database either
            assert code == ExitCode.DONE and (files["out"] / "kpis.md").is_file(), (out, err)
        else:
            line = said_in_one_line(err)
            assert code == ExitCode.ENVIRONMENT and "database is not reachable" in line \
                and "DATABASE_URL" in line, (path, code, line)
    assert not any((files["out"] / name).exists() for name in ("routed.csv", "h.html", "new-backup.tar", "places.gpkg",
                                                                "checklists.json"))
    stored = json.loads((tmp_path / "home" / ".gridgov" / "secrets.json").read_text())
    assert stored == keys  # a rotation that could not reach the database changed no key


def test_a_bad_file_or_argument_is_one_line_and_writes_nothing(monkeypatch, capsys, files, database_url, tmp_path):
    f = files
    unknown_department = tmp_path / "checklists-bad.json"
    unknown_department.write_text(json.dumps({"checklists": [{
        "department": "nosuch", "category": "shop", "case_category": "fire_hazard",
        "items": [{"key": "a", "zh": "甲", "en": "A", "kind": "yes_no"}]}]}))
    cases = [
        (["inspections", "checklist", "import", unknown_department], ExitCode.USAGE, "department"),
        (["inspections", "checklist", "import", f["good_csv"]], ExitCode.USAGE, "not a JSON file"),
        (["inspections", "plan", "330503-Z10", "--day", "2099-01-05", "--team", "U-fire-013"], ExitCode.USAGE,
         "team"),
        (["inspections", "plan", "330503-Z10", "--day", "2020-01-05", "--team", "U-fire-003"], ExitCode.USAGE,
         "day"),
        (["inspections", "plan", "nowhere!", "--day", "2099-01-05", "--team", "U-fire-003"], ExitCode.USAGE,
         "zone"),
        (["inspections", "due", "330503-Z10", "--day", "5/1/2099"], ExitCode.USAGE, "--day"),
        (["import-incidents", f["missing"]], ExitCode.USAGE, "no such file"),
        (["import-incidents", f["header_only"]], ExitCode.USAGE, "no incidents in the file"),
        (["import-incidents", f["not_gpkg"]], ExitCode.USAGE, "cannot be read as geodata"),
        (["route-file", f["missing"], f["out"] / "r.csv"], ExitCode.USAGE, "No such file"),
        (["route-file", f["header_only"], f["out"] / "r.csv"], ExitCode.USAGE, "no points in the file"),
        (["route-file", f["broken_json"], f["out"] / "r.csv"], ExitCode.USAGE, "not JSON"),
        (["route-file", f["not_gpkg"], f["out"] / "r.csv"], ExitCode.USAGE, "cannot be read as geodata"),
        (["calendar", "load", f["missing"]], ExitCode.USAGE, "No such file"),
        (["calendar", "load", f["broken_json"]], ExitCode.USAGE, "not JSON"),
        (["import", f["broken_json"], "--layer", "grid", "--parent", "330503"], ExitCode.USAGE, "not valid GeoJSON"),
        (["import", f["not_gpkg"], "--layer", "grid", "--parent", "330503"], ExitCode.USAGE, "the content does not"),
        (["import", f["grid"], "--layer", "grid", "--parent", "330503", "--snap-tolerance", "80"], ExitCode.USAGE,
         "--snap-tolerance"),
        (["export", "--layer", "grid", "--out", f["under_a_file"] / "g.gpkg"], ExitCode.USAGE, "g.gpkg"),
        (["report", "heatmap", "--from", "2001-01-01", "--to", "2001-01-02", "--out", f["out"] / "empty.html"],
         ExitCode.FINDINGS, "no reports from 2001-01-01"),
        (["report", "heatmap", "--from", "2026-02-01", "--to", "2026-01-01"], ExitCode.USAGE, "before"),
        (["report", "monthly", "--area", "nowhere", "--month", "2026-01", "--out", f["out"]], ExitCode.USAGE,
         "--area: no current area 'nowhere'"),
        (["report", "monthly", "--area", "330503", "--month", "2026-13", "--out", f["out"]], ExitCode.USAGE,
         "--month: must be a month"),
        (["report", "monthly", "--area", "330503", "--month", "2026-01", "--out", f["under_a_file"]],
         ExitCode.USAGE, "--out"),
        (["qr", "--area", "330503", "--out", f["under_a_file"]], ExitCode.USAGE, "a-file"),
        (["qr", "--area", "nowhere"], ExitCode.USAGE, "no grid found"),
        (["route", "200", "30.8", "-c", "street_vendor"], ExitCode.USAGE, "lon"),
        (["route", "120.42", "30.87", "-c", "no_such_category"], ExitCode.USAGE, "category"),
        (["route", "120.42", "30.87", "-c", "street_vendor", "--crs", "epsg:4490"], ExitCode.USAGE, "crs"),
        (["user", "grant", "nobody-at-all", "dispatcher", "330503"], ExitCode.USAGE, "nobody-at-all"),
        (["validate", "nowhere"], ExitCode.USAGE, "nowhere"),
        (["migrate", "no-such-revision"], ExitCode.USAGE, "no-such-revision"),
        (["roster", "import", f["missing"]], ExitCode.USAGE, "no such file"),
        (["roster", "import", f["good_csv"]], ExitCode.USAGE, "--kind"),
        (["roster", "import", f["not_gpkg"]], ExitCode.USAGE, ".csv"),
        (["roster", "import", f["header_only"], "--kind", "stations"], ExitCode.USAGE, "unknown column(s) id"),
        (["survey", "open", "--street", "nowhere", "--from", "2026-10-01", "--to", "2026-12-31"], ExitCode.USAGE,
         "nowhere"),
        (["survey", "open", "--street", "330503100", "--from", "2026-10-01", "--to", "2026-09-30"], ExitCode.USAGE,
         "before it starts"),
        (["survey", "poster", "--street", "330503100", "--out", f["under_a_file"]], ExitCode.USAGE, "a-file"),
        (["survey", "poster", "--street", "nowhere"], ExitCode.USAGE, "nowhere"),
        (["survey", "scores", "999999999"], ExitCode.USAGE, "999999999"),
        (["survey", "progress", "999999999", "--status", "done"], ExitCode.USAGE, "999999999"),
        (["places", "import", f["missing"]], ExitCode.USAGE, "no such file"),
        (["places", "import", f["good_csv"]], ExitCode.USAGE, "unknown column(s) id, reported_at"),
        (["places", "import", f["not_gpkg"]], ExitCode.USAGE, "the content does not"),
        (["places", "import", f["grid"], "--crs", "epsg:4549"], ExitCode.USAGE, "crs"),
        (["places", "export", "--out", f["out"] / "places.kml"], ExitCode.USAGE, ".geojson or .gpkg"),
        (["places", "aggregate", "330503001001001", "--as-of", "30/11/2026", "--source", "x"], ExitCode.USAGE,
         "--as-of"),
        (["places", "aggregate", "330503001001001", "--as-of", "2026-11-30", "--source", "x", "--households", "-1"],
         ExitCode.USAGE, "households"),
        (["stars", "compute", "--month", "2026-13"], ExitCode.USAGE, "month"),
        (["stars", "compute", "--month", "2026-10", "--district", "nowhere"], ExitCode.USAGE, "nowhere"),
        (["stars", "list", "--month", "2026-10", "--kind", "zone"], ExitCode.USAGE, "kind"),
        (["stars", "config", "set", "--file", f["broken_json"], "--district", "330503"], ExitCode.USAGE, "not JSON"),
        (["stars", "config", "set", "--file", f["schedule"], "--district", "330503"], ExitCode.USAGE, "unknown field"),
        (["stars", "config", "set", "--file", f["missing"], "--district", "330503"], ExitCode.USAGE, "missing.csv"),
    ]
    for argv, expected, words in cases:
        code, out, err = run(monkeypatch, capsys, database_url, argv)
        line = said_in_one_line(err)
        assert code == expected and words in line, (argv, code, line)
    assert sorted(p.name for p in f["out"].iterdir()) == sorted(
        ["points.csv", "header.csv", "broken.geojson", "garbage.gpkg", "grid.geojson", "schedule.json", "a-file",
         "backup.tar", "checklists-bad.json"])


def test_db_status_answers_by_its_exit_code(monkeypatch, capsys, database_url):
    code, out, _ = run(monkeypatch, capsys, database_url, ["db", "status"])
    assert code == ExitCode.DONE and "reachable" in said_in_one_line(out)
    code, out, _ = run(monkeypatch, capsys, DOWN, ["db", "status"])
    assert code == ExitCode.ENVIRONMENT and "NOT reachable" in said_in_one_line(out)


@pytest.mark.parametrize(("variable", "value", "words"), [
    ("GRIDGOV_PG_PORT", "five", "valid integer"),
    ("GRIDGOV_CORS_ORIGINS", "[not json", "Expecting value"),
    ("GRIDGOV_BASEMAP", "xyz", "needs GRIDGOV_BASEMAP_URL"),
    ("GRIDGOV_ENV", "staging", "development"),
])
def test_a_bad_setting_is_one_line_naming_the_variable(monkeypatch, capsys, database_url, variable, value, words):
    monkeypatch.setenv(variable, value)
    code, _, err = run(monkeypatch, capsys, database_url, ["user", "list"])
    line = said_in_one_line(err)
    assert code == ExitCode.ENVIRONMENT and variable in line and words in line, line


def test_cors_origins_may_be_a_json_list_or_comma_separated(monkeypatch):
    for value in ('["https://a.example", "https://b.example"]', "https://a.example, https://b.example"):
        monkeypatch.setenv("GRIDGOV_CORS_ORIGINS", value)
        get_settings.cache_clear()
        assert get_settings().cors_origins == ["https://a.example", "https://b.example"]


def test_the_bench_explains_itself(capsys):
    from bench.__main__ import parse_args

    with pytest.raises(SystemExit) as ended:
        parse_args(["--help"])
    assert ended.value.code == 0 and "--load-rate" in capsys.readouterr().out


def test_reporting_commands_answer_json_for_scripts(monkeypatch, capsys, database_url, client):
    code, out, _ = run(monkeypatch, capsys, database_url, ["categories", "--json"])
    assert code == 0 and json.loads(out) == client.get("/api/categories").json()
    code, out, _ = run(monkeypatch, capsys, database_url, ["validate", "330503", "--json"])
    assert code == ExitCode.DONE and json.loads(out) == {"violations": {}, "total": 0}
    code, out, _ = run(monkeypatch, capsys, database_url, ["user", "list", "--json"])
    accounts = json.loads(out)
    assert code == 0 and "admin" in {a["username"] for a in accounts} and all("grants" in a for a in accounts)
    code, out, _ = run(monkeypatch, capsys, database_url, ["calendar", "--json"])
    assert code in (ExitCode.DONE, ExitCode.FINDINGS) and "official_until" in json.loads(out)
    code, out, _ = run(monkeypatch, capsys, database_url, ["apikey", "list", "--json"])
    assert code == 0 and isinstance(json.loads(out), list)


def test_an_output_file_is_never_replaced_silently(monkeypatch, capsys, database_url, tmp_path):
    target = tmp_path / "streets.geojson"
    target.write_text("keep me")
    code, _, err = run(monkeypatch, capsys, database_url, ["export", "--layer", "street", "--out", target])
    assert code == ExitCode.USAGE and "--overwrite" in said_in_one_line(err) and target.read_text() == "keep me"
    code, out, _ = run(monkeypatch, capsys, database_url, ["export", "--layer", "street", "--out", target,
                                                            "--overwrite"])
    assert code == 0 and json.loads(target.read_text())["type"] == "FeatureCollection"
