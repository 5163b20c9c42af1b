"""``gridgov inspections``: joint inspections (综合查一次): checklists from a file, the places due,
a team's plan for a day, the figures."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from api.cli_exit import ExitCode
from api.cli_support import AS_JSON, OVERWRITE, cli_admin, fail, in_transaction, print_json, refuse_existing

inspections_app = typer.Typer(help="Joint inspections (综合查一次): checklists, places due, plans, figures",
                              no_args_is_help=True)
checklist_app = typer.Typer(help="The departments' checklists per place category (versioned)", no_args_is_help=True)
inspections_app.add_typer(checklist_app, name="checklist")


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r}: a date as YYYY-MM-DD", ExitCode.USAGE)
        raise  # unreachable: fail exits


@checklist_app.command("import")
def checklist_import(file: Path = typer.Argument(..., help="a JSON file like sample_geodata/templates/checklists.json"),
                     as_json: bool = AS_JSON):
    """Save the file's checklists as new versions (an unchanged one writes nothing); an unknown
    department or category refuses the whole file, naming it."""
    from api.inspections.checklists import read_file, save

    if not file.is_file():
        fail(f"{file}: no such file", ExitCode.USAGE)
    batch = read_file(file)
    saved = in_transaction(lambda conn: save(conn, cli_admin(), batch))
    if as_json:
        print_json({"saved": saved})
        return
    for s in saved:
        typer.echo(f"{s['department']}/{s['category']}: version {s['version']}"
                   + ("" if s["changed"] else " (unchanged)"))


@checklist_app.command("export")
def checklist_export(out: Path = typer.Option(..., "--out", help="FILE.json"), overwrite: bool = OVERWRITE):
    """Write the current checklists as the import reads them (edit, then import: changed ones get a new version)."""
    import json

    from api.inspections.checklists import listing

    refuse_existing(out, overwrite=overwrite)
    if not out.parent.is_dir():
        fail(f"{out}: the directory {out.parent} does not exist", ExitCode.USAGE)
    rows = in_transaction(lambda conn: listing(conn))
    doc = {"checklists": [{k: r[k] for k in ("department", "category", "case_category", "items")} for r in rows]}
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    typer.echo(f"wrote {out}: {len(rows)} checklist(s)")


@checklist_app.command("list")
def checklist_list(department: str = typer.Option(None, "--department", help="only this department's"),
                   as_json: bool = AS_JSON):
    """The current checklists: department, place category, version, items."""
    from api.inspections.checklists import listing

    rows = in_transaction(lambda conn: listing(conn, department=department))
    if as_json:
        print_json({"checklists": rows})
        return
    for r in rows:
        typer.echo(f"{r['department']}/{r['category']} v{r['version']} -> {r['case_category']}: "
                   + ", ".join(i["key"] for i in r["items"]))


@inspections_app.command("due")
def inspections_due(zone: str = typer.Argument(..., help="a zone code (its workstation's)"),
                    day: str = typer.Option(..., "--day", help="the day (YYYY-MM-DD)"), as_json: bool = AS_JSON):
    """The zone's places due on a day, most overdue first."""
    from api.inspections.plans import due_list
    from api.settings import get_settings

    when = _day(day, "--day")
    doc = in_transaction(lambda conn: due_list(conn, cli_admin(), get_settings(), zone=zone, day=when, team=None))
    if as_json:
        print_json(doc)
        return
    typer.echo(f"{zone} on {when}: {len(doc['places'])} place(s) due")
    for p in doc["places"]:
        typer.echo(f"  {p['code']} {p['category']} {p['risk_level']} overdue {p['overdue']:.2f}"
                   + (" re-check" if p["recheck"] else "") + f" ({', '.join(p['departments'])})")


@inspections_app.command("plan")
def inspections_plan(zone: str = typer.Argument(..., help="a zone code (its workstation plans)"),
                     day: str = typer.Option(..., "--day", help="the day of the visits (YYYY-MM-DD, today or later)"),
                     team: list[str] = typer.Option(..., "--team", help="a unit of the team (repeat the option)"),
                     as_json: bool = AS_JSON):
    """Plan a joint team's day in the zone: its due places, each once with every department of the
    team that checks it, in the visiting order (OR-Tools; straight-line distances)."""
    from pydantic import ValidationError

    from api.inspections.plans import create
    from api.inspections.schemas import PlanIn
    from api.settings import get_settings

    try:
        body = PlanIn(zone=zone, day=_day(day, "--day"), team=team)
    except ValidationError as exc:
        err = exc.errors()[0]
        fail(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}", ExitCode.USAGE)
    plan = in_transaction(lambda conn: create(conn, cli_admin(), get_settings(), body))
    if as_json:
        print_json(plan)
        return
    typer.echo(f"plan {plan['id']}: {zone} on {plan['day']}, team {', '.join(plan['team'])}: "
               f"{len(plan['visits'])} visit(s), {plan['route_m'] / 1000:.1f} km "
               f"(most overdue first: {plan['naive_m'] / 1000:.1f} km), {plan['left_out']} due place(s) left out")
    for v in plan["visits"]:
        typer.echo(f"  {v['seq']:>2}. {v['place']['code']} {v['place']['name']} ({', '.join(v['departments'])})")


@inspections_app.command("figures")
def inspections_figures(zone: str = typer.Option(None, "--zone", help="one zone (default: all)"),
                        from_: str = typer.Option(..., "--from", help="the first day (YYYY-MM-DD)"),
                        to: str = typer.Option(..., "--to", help="the last day (YYYY-MM-DD)"),
                        as_json: bool = AS_JSON):
    """Visits made, separate visits saved, findings per place category, rectified on time."""
    from api.inspections.figures import figures

    start, end = _day(from_, "--from"), _day(to, "--to")
    doc = in_transaction(lambda conn: figures(conn, cli_admin(), zone=zone, from_day=start, to_day=end))
    if as_json:
        print_json(doc)
        return
    typer.echo(f"{zone or 'all zones'} {start}..{end}: {doc['visits_made']} visit(s), {doc['checks_made']} check(s), "
               f"{doc['separate_visits_saved']} separate visit(s) saved; {doc['findings']} finding(s), "
               f"{doc['rectified']} rectified ({doc['rectified_on_time']} on time)")
    for c in doc["findings_per_category"]:
        typer.echo(f"  {c['category']}: {c['findings']}")
