"""Make a folium page self-contained: every script and stylesheet inlined from the project's
own copies (web/node_modules, installed by ``npm ci``), so that it opens with no network at
all — command rooms are often offline, and a report is mailed around as one file."""

from __future__ import annotations

import re
from pathlib import Path

from api.settings import PROJECT_ROOT

NODE_MODULES = PROJECT_ROOT / "web" / "node_modules"
# folium's resources -> the local copies (what a map of GeoJSON layers and a heat layer needs;
# jQuery, Bootstrap and the marker icons are for widgets these reports do not use)
JS = {"leaflet": NODE_MODULES / "leaflet/dist/leaflet.js",
      "leaflet-heat.js": NODE_MODULES / "leaflet.heat/dist/leaflet-heat.js"}
CSS = {"leaflet_css": NODE_MODULES / "leaflet/dist/leaflet.css"}
LOCAL = "gridgov-local:"


class MissingAsset(RuntimeError):
    pass


def localise(element) -> None:
    """Point a folium map or plugin at the local copies (placeholders, inlined by :func:`inline`)."""
    element.default_js = [(name, LOCAL + name) for name, _ in getattr(element, "default_js", []) if name in JS]
    element.default_css = [(name, LOCAL + name) for name, _ in getattr(element, "default_css", []) if name in CSS]


def _read(path: Path) -> str:
    if not path.is_file():
        raise MissingAsset(f"{path} is missing: run `npm ci` in web/ (make run does)")
    return path.read_text(encoding="utf-8")


def _script(path: Path) -> str:
    code = _read(path).replace("</script", "<\\/script")  # the code cannot end the element early
    return f"<script>{code}</script>"


def inline(html: str) -> str:
    """Replace the placeholder links with the files' contents; refuse a page that still links
    to anything outside itself (checked before inlining: the libraries' own code mentions URLs)."""
    outside = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="(https?:[^"]+)"', html)
    if outside:
        raise MissingAsset(f"the page would load {outside[0]}: add a local copy to api.reports.offline")
    html = re.sub(rf'<script src="{LOCAL}([^"]+)"></script>', lambda m: _script(JS[m.group(1)]), html)
    return re.sub(rf'<link rel="stylesheet" href="{LOCAL}([^"]+)"\s*/?>',
                  lambda m: f"<style>{_read(CSS[m.group(1)])}</style>", html)
