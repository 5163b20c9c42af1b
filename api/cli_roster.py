"""``gridgov roster``: a district's people and catalogue from CSV or XLSX files (``api.roster``)."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

import typer

from api.cli_exit import ExitCode
from api.cli_support import (
    AS_JSON,
    OVERWRITE,
    cli_admin,
    fail,
    in_transaction,
    print_json,
    print_rows_report,
    refuse_existing,
)

roster_app = typer.Typer(help="A district's departments, categories, stations, units and accounts from CSV or "
                              "XLSX files (gridgov roster template KIND writes one to fill)", no_args_is_help=True)

KIND_HELP = "departments, categories, stations, units or accounts (default: told by the header row)"


def _print_changes(report: dict) -> None:
    for code, changes in report["updated"].items():
        typer.echo(f"  {code}: " + "; ".join(f"{c} {before!r} -> {after!r}" for c, (before, after) in changes.items()))


def _print_report(report: dict) -> None:
    print_rows_report(report, f"{report['file']}: {report['rows']} row(s) of {report['kind']}", _print_changes)
    if not report["problems"] and report["credentials"]:
        typer.echo(f"random passwords of the {len(report['added'])} new account(s): {report['credentials']} "
                   f"(mode 600; give each person theirs)")


@roster_app.command("import")
def roster_import(
    file: Path = typer.Argument(..., help="a filled template: .csv (UTF-8) or .xlsx"),
    kind: str = typer.Option(None, "--kind", help=KIND_HELP),
    dry_run: bool = typer.Option(False, "--dry-run",
                                 help="check, and say what would change; write nothing (exit 1 on problems)"),
    as_json: bool = AS_JSON,
):
    """Check every row (all problems listed by row and column), then add or update by code in one
    transaction, or write nothing. Importing the same file again changes nothing. New accounts
    get a random password each, written to .gridgov/roster-credentials.txt (mode 600)."""
    from api.roster.service import import_file
    from api.settings import get_settings

    if not file.is_file():
        fail(f"{file}: no such file", ExitCode.USAGE)
    settings = get_settings()
    with ExitStack() as stack:
        bars: list = []

        def progress(done: int, total: int) -> None:  # shown once the rows are checked and written
            if not bars:
                bars.append(stack.enter_context(typer.progressbar(length=total, label=f"writing {total} row(s)",
                                                                  file=sys.stderr)))
            bars[0].update(done - bars[0].pos)

        report = in_transaction(lambda conn: import_file(conn, cli_admin(), file, kind=kind, dry_run=dry_run,
                                                          data_dir=settings.data_dir, progress=progress))
    print_json(report) if as_json else _print_report(report)
    if report["problems"]:
        raise typer.Exit(ExitCode.FINDINGS)


@roster_app.command("template")
def roster_template(
    kind: str = typer.Argument(..., help="departments, categories, stations, units or accounts"),
    out: Path = typer.Option(..., "--out", help="FILE.xlsx or FILE.csv"),
    overwrite: bool = OVERWRITE,
):
    """Write a template with its filled example (Wuxing, 330502): replace the rows with your own."""
    from api.roster.templates import write_template

    refuse_existing(out, overwrite=overwrite)
    n = write_template(kind, out)
    typer.echo(f"wrote {out}: the {kind} columns and {n} example row(s)")
