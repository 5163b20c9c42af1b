"""The monthly report (api.reports.monthly): the HTML links nothing outside itself, the PDF
renders to pages with pdftoppm, its figures are the KPI API's, bad input is a 4xx naming the
field, and the command writes both files (and refuses to overwrite them)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from api.cli import main
from api.settings import get_settings

STREET = "330503001"
MONTH = "2026-09"
OUTSIDE = re.compile(r"<(?:script|link|img|iframe)[^>]+(?:src|href)=[\"'](?:https?:)?//", re.I)


@pytest.fixture(scope="module")
def analyst(make_user, login):
    return login(*make_user("analyst", STREET))


@pytest.fixture(scope="module")
def html(client, analyst):
    res = client.get("/api/reports/monthly.html", params={"area": STREET, "month": MONTH}, headers=analyst)
    assert res.status_code == 200, res.text
    assert f'filename="report-{STREET}-{MONTH}.html"' in res.headers["content-disposition"]
    return res.text


def test_the_html_report_links_nothing_outside_itself(html):
    import html as htmlib

    for text in (html, htmlib.unescape(html)):  # the map is an iframe's srcdoc: look inside it too
        assert not OUTSIDE.search(text), OUTSIDE.search(text).group()
    assert html.count("data:image/png;base64,") == 3 and "L.map(" in htmlib.unescape(html)


def test_the_reports_figures_are_the_kpi_apis(client, analyst, html):
    k = {f["key"]: f for f in client.get("/api/kpis", headers=analyst, params={
        "area": STREET, "from": "2026-09-01", "to": "2026-10-01"}).json()["kpis"]}
    row = re.search(r'data-kpi="received"><td>[^<]*</td><td class="v">(\d+)</td>', html)
    assert row and int(row.group(1)) == k["received"]["value"] > 0
    rate = re.search(r'data-kpi="on_time_rate"><td>[^<]*</td><td class="v">([\d.]+)%</td>'
                     r'<td>(\d+)</td><td>(\d+)</td>', html)
    assert rate and (int(rate.group(2)), int(rate.group(3))) == (k["on_time_rate"]["numerator"],
                                                                 k["on_time_rate"]["denominator"])
    assert float(rate.group(1)) == round(k["on_time_rate"]["value"] * 100, 1)


def test_the_pdf_renders_to_pages(client, analyst, tmp_path):
    res = client.get("/api/reports/monthly.pdf", params={"area": STREET, "month": MONTH, "lang": "en"},
                     headers=analyst)
    assert res.status_code == 200 and res.content.startswith(b"%PDF"), res.text[:200]
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    (tmp_path / "r.pdf").write_bytes(res.content)
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(tmp_path / "r.pdf"), str(tmp_path / "page")], check=True)
    assert len(list(tmp_path.glob("page-*.png"))) >= 2


@pytest.mark.parametrize("params, field", [({"area": "nowhere", "month": MONTH}, "area"),
                                           ({"area": STREET, "month": "2026-13"}, "month"),
                                           ({"area": STREET, "month": "2999-01"}, "month"),
                                           ({"area": STREET}, "month")])
def test_bad_input_is_a_4xx_naming_the_field(client, analyst, params, field):
    res = client.get("/api/reports/monthly.pdf", params=params, headers=analyst)
    assert 400 <= res.status_code < 500, res.text
    assert field in {e["field"] for e in res.json()["errors"]}, res.json()


def test_a_caller_without_kpis_is_refused(client, make_user, login):
    worker = login(*make_user("grid_worker", STREET))
    res = client.get("/api/reports/monthly.html", params={"area": STREET, "month": MONTH}, headers=worker)
    assert res.status_code == 403


def test_the_command_writes_both_files_and_refuses_to_overwrite(database_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()

    def run(*argv) -> int:
        with pytest.raises(SystemExit) as ended:
            main([str(a) for a in argv])
        get_settings.cache_clear()
        return int(ended.value.code or 0)

    args = ("report", "monthly", "--area", STREET, "--month", MONTH, "--out", tmp_path, "--json")
    assert run(*args) == 0
    page = (tmp_path / f"report-{STREET}-{MONTH}.html").read_text(encoding="utf-8")
    assert not OUTSIDE.search(page)
    assert (tmp_path / f"report-{STREET}-{MONTH}.pdf").read_bytes().startswith(b"%PDF")
    assert run(*args) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert run(*args, "--overwrite") == 0
