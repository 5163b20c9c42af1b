"""A second district onboarded beside the Nanxun sample as an operator would: Wuxing (330502)
from its official outline, then its layers from files made as if exported from an older system
(shared by tests/test_districts.py and tests/test_roster.py)."""

from __future__ import annotations

import json

import shapely

from api.cli_exit import ExitCode
from spatial.outlines import official_outline
from tests.test_cli_exits import run

WUXING = "330502"
STREET, COMMUNITY = f"{WUXING}001", f"{WUXING}001001"
ZONES = (f"{WUXING}-Z01", f"{WUXING}-Z02")  # the west and the east half (the roster templates' zones)


def layer_file(path, features: list[tuple[str, str, shapely.Geometry]]) -> None:
    """A GeoJSON layer as another system exports it: code, name and the outline."""
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": code, "name": name, "source_system": "legacy-gis"},
         "geometry": json.loads(shapely.to_geojson(geom))} for code, name, geom in features]}, ensure_ascii=False))


def quarters(outline: shapely.MultiPolygon) -> list[shapely.Geometry]:
    """The outline cut in four at its centre: the old system's four grids."""
    x0, y0, x1, y1 = outline.bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    boxes = [shapely.box(x0, y0, cx, cy), shapely.box(cx, y0, x1, cy), shapely.box(x0, cy, cx, y1),
             shapely.box(cx, cy, x1, y1)]
    return [shapely.intersection(outline, b) for b in boxes]


def halves(outline: shapely.MultiPolygon) -> list[shapely.Geometry]:
    """The outline cut in two on a meridian two fifths across (where both parts are one polygon):
    two zones (片区), west and east."""
    x0, y0, x1, y1 = outline.bounds
    cx = x0 + (x1 - x0) * 0.4
    return [shapely.intersection(outline, shapely.box(x0, y0, cx, y1)),
            shapely.intersection(outline, shapely.box(cx, y0, x1, y1))]


def grids_of(outline: shapely.MultiPolygon) -> list[tuple[str, str, shapely.Geometry]]:
    return [(f"{COMMUNITY}{i:03d}", f"吴兴网格{i}", g) for i, g in enumerate(quarters(outline), 1)]


def onboard_wuxing(monkeypatch, capsys, url: str, tmp_path, *, zones: bool = True) -> shapely.MultiPolygon:
    """`gridgov district add 330502`, then a street, a community, four grids and (``zones``) two
    zones imported from files; Wuxing's outline."""
    outline = official_outline(WUXING).geom
    code, _, err = run(monkeypatch, capsys, url, ["district", "add", WUXING, "--name-en", "Wuxing"])
    assert code == ExitCode.DONE, err
    layer_file(tmp_path / "streets.geojson", [(STREET, "测试街道", outline)])
    layer_file(tmp_path / "communities.geojson", [(COMMUNITY, "测试社区", outline)])
    layer_file(tmp_path / "grids.geojson", grids_of(outline))
    layer_file(tmp_path / "zones.geojson", [(z, f"吴兴{side}片区", g) for z, side, g in
                                            zip(ZONES, ("西", "东"), halves(outline), strict=True)])
    layers = [("street", "streets", WUXING), ("community", "communities", WUXING), ("grid", "grids", WUXING)]
    layers += [("zone", "zones", STREET)] if zones else []
    for layer, file, parent in layers:
        code, out, err = run(monkeypatch, capsys, url, ["import", tmp_path / f"{file}.geojson", "--layer", layer,
                                                        "--parent", parent])
        assert code == ExitCode.DONE, out + err
    return outline
