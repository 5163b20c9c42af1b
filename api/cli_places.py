"""``gridgov places``: the places register (民情地图) from and to files, and grid aggregates."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from datetime import date
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

places_app = typer.Typer(help="The places register (民情地图): import and export places, grid aggregates",
                         no_args_is_help=True)

CRS_HELP = "what the file's lon/lat are in: wgs84 or cgcs2000 (as is), gcj02 (AMap, Tencent) or bd09 (Baidu)"


def _print_report(report: dict) -> None:
    print_rows_report(report, f"{report['file']}: {report['rows']} row(s) of places "
                              f"({report['format']}, {report['crs']})")


@places_app.command("import")
def places_import(
    file: Path = typer.Argument(..., help="places: .csv (UTF-8) or .xlsx with lon, lat columns; .geojson or .gpkg"),
    crs: str = typer.Option("wgs84", "--crs", help=CRS_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="check and say what would change; write nothing"),
    reason: str = typer.Option(None, "--reason", help="kept with the new versions"),
    as_json: bool = AS_JSON,
):
    """Check every row (problems listed by row and column), then add or change the places by code
    in one transaction, or write nothing (exit 1 on problems). The same file again changes nothing."""
    from api.places.files import import_places
    from api.settings import get_settings

    if not file.is_file():
        fail(f"{file}: no such file", ExitCode.USAGE)
    settings = get_settings()
    with ExitStack() as stack:
        bars: list = []

        def progress(done: int, total: int) -> None:  # shown once the rows are checked, while they are written
            if not bars:
                bars.append(stack.enter_context(typer.progressbar(length=total, label=f"writing {total} place(s)",
                                                                  file=sys.stderr)))
            bars[0].update(done - bars[0].pos)

        report = in_transaction(lambda conn: import_places(conn, cli_admin(), settings, file, crs=crs,
                                                           dry_run=dry_run, reason=reason, progress=progress))
    print_json(report) if as_json else _print_report(report)
    if report["problems"]:
        raise typer.Exit(ExitCode.FINDINGS)


@places_app.command("export")
def places_export(
    out: Path = typer.Option(..., "--out", help="FILE.geojson or FILE.gpkg"),
    area: str = typer.Option(None, "--area", help="only the places in this area (district, street, grid ...)"),
    overwrite: bool = OVERWRITE,
):
    """Write the current places (never a contact) to a GeoJSON or GeoPackage file."""
    from api.places.files import export_places
    from spatial.io.formats import format_of_name

    fmt = format_of_name(out.name)
    if fmt is None or fmt.key not in ("geojson", "gpkg"):
        fail(f"{out.name}: write places to a .geojson or .gpkg file", ExitCode.USAGE)
    assert fmt is not None
    refuse_existing(out, overwrite=overwrite)
    if not out.parent.is_dir():
        fail(f"{out}: the directory {out.parent} does not exist", ExitCode.USAGE)
    content, _ = in_transaction(lambda conn: export_places(conn, cli_admin(), fmt=fmt.key, area=area))
    out.write_bytes(content)
    typer.echo(f"wrote {out}")


@places_app.command("aggregate")
def places_aggregate(
    grid: str = typer.Argument(..., help="the grid's code"),
    as_of: str = typer.Option(..., "--as-of", help="the date the counts hold for (YYYY-MM-DD)"),
    source: str = typer.Option(..., "--source", help="where they come from (a survey, the census ...)"),
    households: int = typer.Option(None, "--households"),
    registered: int = typer.Option(None, "--registered", help="registered residents (户籍人口)"),
    non_local: int = typer.Option(None, "--non-local", help="residents from elsewhere (流动人口)"),
    elderly_alone: int = typer.Option(None, "--elderly-alone", help="elderly living alone (独居老人)"),
    as_json: bool = AS_JSON,
):
    """Record a grid's counts as of a date (the same date again replaces them): counts, never people."""
    from pydantic import ValidationError

    from api.places.aggregates import set_counts
    from api.places.schemas import AggregateIn

    try:
        when = date.fromisoformat(as_of)
    except ValueError:
        fail(f"--as-of {as_of!r}: a date as YYYY-MM-DD", ExitCode.USAGE)
    try:
        body = AggregateIn(as_of=when, source=source, households=households, registered_residents=registered,
                           non_local_residents=non_local, elderly_alone=elderly_alone)
    except ValidationError as exc:
        err = exc.errors()[0]
        fail(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}", ExitCode.USAGE)
    row = in_transaction(lambda conn: set_counts(conn, cli_admin(), grid, body))
    if as_json:
        print_json(row)
    else:
        typer.echo(f"grid {grid} as of {row['as_of']} ({row['source']}): " + ", ".join(
            f"{k} {row[k]}" for k in ("households", "registered_residents", "non_local_residents", "elderly_alone")
            if row[k] is not None))


@places_app.command("aggregates")
def places_aggregates(area: str = typer.Argument(None, help="sum the grids under this area (default: all)"),
                      as_json: bool = AS_JSON):
    """Each grid's latest counts and their sums, with the current places per category."""
    from api.places.aggregates import show

    doc = in_transaction(lambda conn: show(conn, cli_admin(), area))
    if as_json:
        print_json(doc)
        return
    t = doc["totals"]
    typer.echo(f"{area or 'everywhere'}: {t['grids']} grid(s) with counts; households {t['households']}, "
               f"registered {t['registered_residents']}, non-local {t['non_local_residents']}, "
               f"elderly alone {t['elderly_alone']}")
    typer.echo("places: " + (", ".join(f"{k} {v}" for k, v in t["places"].items()) or "none"))
