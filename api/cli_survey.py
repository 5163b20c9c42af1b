"""``gridgov survey``: resident satisfaction surveys (满意度测评, ``api.surveys``): open and close
a street's survey period, its signed poster, its scores and its follow-up items (整改事项)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from api.cli_exit import ExitCode
from api.cli_support import AS_JSON, OVERWRITE, cli_admin, fail, in_transaction, print_json, refuse_existing

survey_app = typer.Typer(help="Resident satisfaction surveys (满意度测评): periods, posters, scores, follow-up items",
                         no_args_is_help=True)
DAY = ["%Y-%m-%d"]


def _print_periods(rows: list[dict]) -> None:
    for r in rows:
        typer.echo(f"  period {r['id']}: {r['street_code']} {r['street_name'] or ''} {r['opens']}..{r['closes']} "
                   f"{r['state']}, {r['answers']} answer(s) ({r['template_code']})")
    if not rows:
        typer.echo("no survey periods")


@survey_app.command("open")
def survey_open(street: str = typer.Option(..., "--street", help="the street's code, e.g. 330503100"),
                opens: datetime = typer.Option(..., "--from", formats=DAY, help="first day, YYYY-MM-DD"),
                closes: datetime = typer.Option(..., "--to", formats=DAY, help="last day (included), YYYY-MM-DD"),
                as_json: bool = AS_JSON):
    """Open a street's survey from one day to another with the default template (Gulou 4 x 17)."""
    from api.settings import get_settings
    from api.surveys import periods

    row = in_transaction(lambda conn: periods.open_period(conn, cli_admin(), get_settings(), street,
                                                          opens.date(), closes.date()))
    print_json(row) if as_json else _print_periods([row])


@survey_app.command("close")
def survey_close(period: int = typer.Argument(..., help="the period's id (gridgov survey list)"),
                 as_json: bool = AS_JSON):
    """Close a period now: answers are refused from then on."""
    from api.settings import get_settings
    from api.surveys import periods

    row = in_transaction(lambda conn: periods.close(conn, cli_admin(), get_settings(), period))
    print_json(row) if as_json else _print_periods([row])


@survey_app.command("list")
def survey_list(street: str = typer.Option(None, "--street", help="one street (default: all)"),
                as_json: bool = AS_JSON):
    """The survey periods, newest first, with their state and number of answers."""
    from api.settings import get_settings
    from api.surveys import periods

    rows = in_transaction(lambda conn: periods.listing(conn, get_settings(), street))
    print_json(rows) if as_json else _print_periods(rows)


def _line(label: str, s: dict) -> str:
    if not s["n"]:
        return f"{label}: no answers"
    ci = f" (95% CI {s['ci_low']:.1f}-{s['ci_high']:.1f})" if s["ci_low"] is not None else ""
    return f"{label}: {s['score']:.2f}{ci}, n={s['n']}" + (" [too few: not ranked]" if s["too_few"] else "")


@survey_app.command("scores")
def survey_scores(period: int = typer.Argument(..., help="the period's id (gridgov survey list)"),
                  as_json: bool = AS_JSON):
    """A period's scores out of 100 per street, dimension and indicator, with the number of
    answers and the 95% confidence interval; too few answers are marked and not ranked."""
    from api.settings import get_settings
    from api.surveys import followups, periods, scores

    async def work(conn):
        settings = get_settings()
        doc = await scores.of_period(conn, settings, await periods.get(conn, settings, period))
        return {**doc, "followups": await followups.of_period(conn, period)}

    doc = in_transaction(work)
    if as_json:
        print_json(doc)
        return
    typer.echo(_line(f"{doc['street']} {doc['street_name'] or ''} {doc['period']['opens']}..{doc['period']['closes']}",
                     doc["overall"]))
    for d in doc["dimensions"]:
        typer.echo("  " + _line(d["name"], d))
        for i in d["indicators"]:
            typer.echo("    " + _line(f"{'#' + str(i['rank']) if i['rank'] else '-'} {i['name']} ({i['code']})", i))
    typer.echo(f"lowest: {', '.join(doc['lowest']) or '(none with enough answers)'}; {len(doc['followups'])} "
               f"follow-up item(s)")


@survey_app.command("poster")
def survey_poster(street: str = typer.Option(..., "--street", help="the street's code"),
                  out: Path = typer.Option(Path("posters"), "--out", help="folder for the poster"),
                  fmt: str = typer.Option("both", "--format", help="svg, pdf or both"), overwrite: bool = OVERWRITE):
    """Write the street's A4 survey poster (SVG and PDF): the QR code of its signed survey link."""
    from api.public_address import public_base
    from api.settings import get_settings
    from api.surveys import periods, poster

    choices: dict[str, tuple[str, ...]] = {"both": ("svg", "pdf"), "svg": ("svg",), "pdf": ("pdf",)}
    if fmt not in choices:
        fail(f"--format must be svg, pdf or both, not {fmt!r}", ExitCode.USAGE)
    formats = choices[fmt]
    settings = get_settings()
    found = in_transaction(lambda conn: periods.street(conn, street))
    files = [out / f"survey-{street}.{f}" for f in formats]
    refuse_existing(*files, overwrite=overwrite)
    url = poster.survey_url(public_base(settings), settings.qr_key or "", street)
    out.mkdir(parents=True, exist_ok=True)
    for f, path in zip(formats, files, strict=True):
        path.write_bytes(poster.render(f, url, found))
    typer.echo(f"survey poster of {street} {found['name']} ({', '.join(formats)}) written to {out}/ (links to {url})")


def _print_followup(row: dict) -> None:
    typer.echo(f"  item {row['id']} (period {row['period_id']}): {row['indicator']} by {row['owner']} before "
               f"{row['deadline']}: {row['status']}{' - ' + row['progress'] if row['progress'] else ''}")


@survey_app.command("followup")
def survey_followup(period: int = typer.Argument(..., help="the period's id"),
                    indicator: str = typer.Option(..., "--indicator", help="the indicator's code (gridgov survey "
                                                                           "scores lists the lowest)"),
                    owner: str = typer.Option(..., "--owner", help="a department or unit code"),
                    measures: str = typer.Option(..., "--measures", help="what will be done"),
                    deadline: datetime = typer.Option(..., "--deadline", formats=DAY, help="YYYY-MM-DD"),
                    as_json: bool = AS_JSON):
    """Add a follow-up item (整改事项) for an indicator residents scored low."""
    from api.settings import get_settings
    from api.surveys import followups

    row = in_transaction(lambda conn: followups.add(conn, cli_admin(), get_settings(), period, indicator=indicator,
                                                    owner=owner, measures=measures, deadline=deadline.date()))
    print_json(row) if as_json else _print_followup(row)


@survey_app.command("progress")
def survey_progress(item: int = typer.Argument(..., help="the follow-up item's id"),
                    status: str = typer.Option(None, "--status", help="planned, in_progress or done"),
                    progress: str = typer.Option(None, "--progress", help="how far it got (shown publicly)"),
                    as_json: bool = AS_JSON):
    """Record a follow-up item's status and progress (shown on the public scores)."""
    from api.surveys import followups

    row = in_transaction(lambda conn: followups.update(conn, cli_admin(), item, status=status, progress=progress))
    print_json(row) if as_json else _print_followup(row)
