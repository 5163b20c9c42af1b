"""``gridgov stars``: star ratings (星级工作站, ``api.stars``): compute a month, list it, and each
district's star configuration (show, set from a JSON file)."""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from pathlib import Path

import typer

from api.cli_exit import ExitCode
from api.cli_support import AS_JSON, cli_admin, fail, in_transaction, print_json

stars_app = typer.Typer(help="Star ratings (星级工作站) of workstations and units: compute, list, configuration",
                        no_args_is_help=True)
config_app = typer.Typer(help="A district's star configuration: weights, penalties, thresholds, minimum cases",
                         no_args_is_help=True)
stars_app.add_typer(config_app, name="config")

MONTH_HELP = "the month, YYYY-MM (one that has ended)"
DISTRICT_HELP = "one district's code (default: every district)"


@stars_app.command("compute")
def stars_compute(month: str = typer.Option(..., "--month", help=MONTH_HELP),
                  district: str = typer.Option(None, "--district", help=DISTRICT_HELP),
                  as_json: bool = AS_JSON):
    """Rate every workstation and unit for a month (a recomputation adds rows; the newest is shown)."""
    from api.settings import get_settings
    from api.stars import compute

    async def work(conn):
        with ExitStack() as stack:
            bars: list = []  # shown from the first subject on: a refusal before is its one line

            def step(done: int, total: int) -> None:
                if not bars:
                    bars.append(stack.enter_context(typer.progressbar(length=total, label=f"rating {month}",
                                                                      file=sys.stderr)))
                bars[0].update(done - bars[0].pos)
            return await compute.run(conn, cli_admin(), get_settings(), month, district, progress=step)

    doc = in_transaction(work)
    if as_json:
        print_json(doc)
        return
    versions = ", ".join(f"{d['district']} v{d['config_version']}" for d in doc["districts"])
    typer.echo(f"{doc['month']}: {doc['stations']} station(s), {doc['units']} unit(s) rated with the "
               f"configuration {versions}: {doc['rated']} with stars, {doc['unrated']} with too few cases")


@stars_app.command("list")
def stars_list(month: str = typer.Option(..., "--month", help="the month, YYYY-MM"),
               kind: str = typer.Option("station", "--kind", help="station or unit"),
               as_json: bool = AS_JSON):
    """A month's ratings ranked by score, with any leader's adjustment beside them."""
    from api.stars import ratings

    doc = in_transaction(lambda conn: ratings.month(conn, cli_admin(), month, kind))
    if as_json:
        print_json(doc)
        return
    for r in doc["ratings"]:
        if not r["rated"]:
            typer.echo(f"   -  {r['code']} {r['name'] or ''}: no stars ({r['unrated_reason']}; {r['cases']} case(s))")
            continue
        adj = r["adjustment"]
        beside = f"  [adjusted to {adj['stars']} by {adj['adjusted_by']}: {adj['reason']}]" if adj else ""
        typer.echo(f"{r['rank']:>4}  {r['code']} {r['name'] or ''}: {'★' * r['stars']} "
                   f"score {r['score']:.2f}, {r['cases']} case(s){beside}")
    if not doc["ratings"]:
        typer.echo(f"no {kind} ratings for {doc['month']}: gridgov stars compute --month {doc['month']}")


@config_app.command("show")
def config_show(district: str = typer.Option(None, "--district", help=DISTRICT_HELP), as_json: bool = AS_JSON):
    """The configuration each district's next computation uses (its newest version, else the default)."""
    from api.stars import config

    async def work(conn):
        return [await config.show(conn, code) for code in await config.districts(conn, district)]

    docs = in_transaction(work)
    if as_json:
        print_json(docs)
        return
    for d in docs:
        label = "the shipped default (not stored yet)" if d["default"] else f"version {d['version']}"
        typer.echo(f"{d['district']}: {label}")
        typer.echo(json.dumps(d["document"], ensure_ascii=False, indent=2))


@config_app.command("set")
def config_set(file: Path = typer.Option(..., "--file", help="a JSON file as `gridgov stars config show --json` "
                                                              "prints a document"),
               district: str = typer.Option(..., "--district", help="the district's code"),
               as_json: bool = AS_JSON):
    """Store a new version of a district's configuration from a JSON file (checked first)."""
    from api.stars import config

    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        fail(f"{file}: not JSON ({exc.msg}, line {exc.lineno})", ExitCode.USAGE)
    config.validate(doc)  # a bad file is told before the database is asked
    shown = in_transaction(lambda conn: config.put(conn, cli_admin(), district, doc))
    if as_json:
        print_json(shown)
        return
    typer.echo(f"{shown['district']}: star configuration version {shown['version']}")
