"""``gridgov report monthly``: an area's monthly report as offline HTML and PDF (api.reports.monthly)."""

from __future__ import annotations

from pathlib import Path

import typer

from api.cli_exit import ExitCode
from api.cli_support import AS_JSON, OVERWRITE, cli_admin, fail, in_transaction, print_json, refuse_existing
from api.errors import ApiError
from api.settings import get_settings

STEPS = ("figures", "map", "trends", "categories", "charts", "html", "pdf")


def report_monthly(
    area: str = typer.Option(..., "--area", help="the area's code: a district, street, zone, community or grid"),
    month: str = typer.Option(..., "--month", help="the month, YYYY-MM (the current one: so far)"),
    out: Path = typer.Option(Path("."), "--out", help="the directory to write report-CODE-YYYY-MM.html and .pdf to"),
    lang: str = typer.Option("zh", "--lang", help="the report's language: a catalogue of web/static/i18n/ (zh, en)"),
    overwrite: bool = OVERWRITE,
    as_json: bool = AS_JSON,
):
    """An area's monthly report: the KPI table, a choropleth of the areas one level down by
    on-time closure, the last 12 months and the top categories, as an offline HTML page (no
    network needed) and an A4 PDF."""
    from api.disclosure import month as months
    from api.reports import monthly, monthly_data, offline

    settings = get_settings()
    try:
        m = months.parse(month, settings.timezone)
    except ApiError as exc:
        fail(f"--month: {exc.detail}", ExitCode.USAGE)
    there = next((p for p in (out, *out.parents) if p.exists()), out)
    if not there.is_dir():
        fail(f"--out: {there} is a file, not a directory", ExitCode.USAGE)
    paths = {ext: out / monthly.file_name(area, m.label, ext) for ext in ("html", "pdf")}
    refuse_existing(*paths.values(), overwrite=overwrite)

    async def work(conn):
        try:
            row = await monthly_data.area(conn, area)
        except ApiError as exc:
            fail(f"--area: {exc.detail}", ExitCode.USAGE)
        # the bar starts once the database answered (a database that is down is one line: main)
        with typer.progressbar(length=len(STEPS), label=f"report {area} {m.label}") as bar:
            data = await monthly_data.gather(conn, cli_admin(), settings, row, m, progress=lambda _: bar.update(1))
            pngs = monthly.pictures(data, lang)
            bar.update(1)
            try:
                page = monthly.html(data, pngs, lang, settings.timezone)
            except offline.MissingAsset as exc:
                fail(str(exc), ExitCode.ENVIRONMENT)
            bar.update(1)
            body = monthly.pdf(data, pngs, lang, settings.timezone)
            bar.update(1)
        return data, page, body

    data, page, body = in_transaction(work)
    out.mkdir(parents=True, exist_ok=True)
    paths["html"].write_text(page, encoding="utf-8")
    paths["pdf"].write_bytes(body)
    received = next((f["value"] for f in data["kpis"] if f["key"] == "received"), 0)
    if as_json:
        print_json({"area": data["area"], "month": data["month"], "complete": data["complete"],
                    "html": str(paths["html"]), "pdf": str(paths["pdf"]),
                    "kpis": {f["key"]: f["value"] for f in data["kpis"]}})
        return
    typer.echo(f"{paths['html']} and {paths['pdf']}: {received} case(s) received in {m.label}"
               f"{'' if m.complete else ' (so far)'} under {area}")
