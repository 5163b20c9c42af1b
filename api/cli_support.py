"""What every ``gridgov`` command group shares (``api.cli`` and the groups in modules of their
own, such as ``api.cli_roster``): ending with a message and an exit code, JSON output, refusing
to overwrite, one transaction on the configured database, the command line's admin principal."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import typer

from api.cli_exit import ExitCode
from api.settings import get_settings, libpq_url


def fail(message: str, code: int = ExitCode.FINDINGS):
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(int(code))


AS_JSON = typer.Option(False, "--json", help="print the result as JSON (for scripts)")
OVERWRITE = typer.Option(False, "--overwrite", help="replace output files that exist already")


def print_json(doc) -> None:
    json.dump(doc, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def refuse_existing(*paths: Path, overwrite: bool) -> None:
    """Outputs are never overwritten silently (checked before any work is done)."""
    there = [str(p) for p in paths if p.exists()]
    if there and not overwrite:
        fail(f"{', '.join(there[:3])}{' ...' if len(there) > 3 else ''} exists already: "
             f"--overwrite replaces it, or choose another name", ExitCode.USAGE)


async def connect(url: str):
    """A psycopg connection for one command: its statements in one transaction (``async with``
    commits it, or rolls it back on error), tuned like the app's (``api.db.tune``)."""
    import psycopg

    from api.db import tune

    conn = await psycopg.AsyncConnection.connect(libpq_url(url))
    tune(conn)
    return conn


def in_transaction(work):
    """Run ``await work(conn)`` in one transaction on the configured database."""

    async def run():
        async with await connect(get_settings().url) as conn:  # committed on success, rolled back on error
            return await work(conn)

    return asyncio.run(run())  # input errors and a database that is down end in one line (main)


def cli_admin():
    """The command line acts as an admin (whoever runs it owns the database); audited as cli:<user>."""
    import getpass

    from api.auth.principal import Grant, Principal

    return Principal(username=f"cli:{getpass.getuser()}", user_id=0, grants=(Grant("admin", "*"),), client="cli")


def print_rows_report(report: dict, what: str, details=None) -> None:
    """A file import's report (roster, places): every problem by row and column, or the counts of
    what was (a dry run: would be) added, updated and left unchanged; ``details`` prints what
    comes between the problems and the counts (the changed values)."""
    for p in report["problems"]:
        typer.secho(f"  row {p['row']}, {p['column']}: {p['reason']}", fg=typer.colors.RED)
    if report["problems"]:
        typer.echo(f"{what}: {len(report['problems'])} problem(s); nothing written")
        return
    if details is not None:
        details(report)
    counts = f"{len(report['added'])} added, {len(report['updated'])} updated, {len(report['unchanged'])} unchanged"
    typer.echo(f"{what}: no problems; would be {counts} (dry run: nothing written)" if report["dry_run"]
               else f"{what}: {counts}")
