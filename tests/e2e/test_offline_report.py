"""`gridgov report heatmap` writes one HTML file that draws its hexagons with the network cut."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_map import browser  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e
GRIDGOV = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "gridgov"


def test_the_offline_heatmap_report_draws_with_no_network(browser, settings, tmp_path):  # noqa: F811
    out = tmp_path / "heatmap.html"
    run = subprocess.run([str(GRIDGOV), "report", "heatmap", "--from", "2026-01-01", "--to", "2026-10-31",
                          "--area", "330503100", "--out", str(out)],
                         env={**os.environ, "DATABASE_URL": settings.url}, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    hexagons = int(re.search(r"in (\d+) hexagons", run.stdout).group(1))
    assert hexagons > 10
    context = browser.new_context(viewport={"width": 1200, "height": 800}, offline=True)
    attempted: list[str] = []
    context.route("**/*", lambda route: (attempted.append(route.request.url), route.abort())
                  if not route.request.url.startswith(("file:", "data:")) else route.continue_())
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(out.as_uri())
        page.wait_for_function(f"() => document.querySelectorAll('path.leaflet-interactive').length >= {hexagons}")
        assert "共" in page.locator("#gridgov-report-title").inner_text()
        page.screenshot(path=str(tmp_path / "report.png"))
    finally:
        context.close()
    assert attempted == [] and errors == []


def test_a_report_of_an_unknown_area_is_refused(settings, tmp_path):
    run = subprocess.run([str(GRIDGOV), "report", "heatmap", "--from", "2026-01-01", "--to", "2026-02-01",
                          "--area", "nowhere", "--out", str(tmp_path / "x.html")],
                         env={**os.environ, "DATABASE_URL": settings.url}, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "nowhere" in run.stderr and not (tmp_path / "x.html").exists()
