"""GeoReport v2 documents in JSON and XML (``xml.etree``), and its error bodies.

The XML names follow the spec: a list is a container of singular elements
(``services/service``, ``attributes/attribute``, ``values/value``,
``service_requests/request``, ``endpoints/endpoint``, ``formats/format``,
``errors/error``), booleans are ``true``/``false``, a missing value is an empty element.
Times are W3C datetimes with their offset.

>>> print(to_xml("services", [{"service_code": "noise", "metadata": False}]).decode())
<?xml version='1.0' encoding='utf-8'?>
<services><service><service_code>noise</service_code><metadata>false</metadata></service></services>
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any, Literal

from fastapi.responses import Response

Format = Literal["json", "xml"]
MEDIA = {"json": "application/json", "xml": "text/xml; charset=utf-8"}
ITEM = {"services": "service", "attributes": "attribute", "values": "value", "endpoints": "endpoint",
        "formats": "format", "service_requests": "request", "errors": "error"}
SPEC_STATUS = {422: 400}  # the spec knows 400 for bad input; every other status stays
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")  # what XML 1.0 cannot carry


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return NOT_XML.sub("\ufffd", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _fill(ET.SubElement(element, key), inner)
    elif isinstance(value, list):
        item = ITEM.get(element.tag, "item")
        for inner in value:
            _fill(ET.SubElement(element, item), inner)
    else:
        element.text = _text(value)


def to_xml(root: str, value: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, value)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def to_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, default=_text).encode()


def render(fmt: Format, root: str, value: Any, status: int = 200,
           headers: dict[str, str] | None = None) -> Response:
    """One document in the requested format; ``root`` names the XML root element."""
    body = to_xml(root, value) if fmt == "xml" else to_json(value)
    return Response(body, status_code=status, media_type=MEDIA[fmt], headers=headers)


def format_of(path: str) -> Format:
    """The format a path asks for (``.xml`` suffix); JSON otherwise, errors included."""
    return "xml" if path.endswith(".xml") else "json"


def error_document(status: int, detail: str, errors: list[dict] | None) -> list[dict]:
    """The spec's error list: one entry per field error (``field: reason``), else the detail."""
    described = [f"{e['field']}: {e['reason']}" if e.get("field") and not e["reason"].startswith(f"{e['field']}:")
                 else e["reason"] for e in errors or []]
    return [{"code": status, "description": d} for d in described or [detail]]


def error_bytes(path: str, status: int, detail: str, errors: list[dict] | None) -> tuple[int, str, bytes]:
    """(status, media type, body) of an error under /open311, in the format the path asks for."""
    status = SPEC_STATUS.get(status, status)
    fmt = format_of(path)
    doc = error_document(status, detail, errors)
    return status, MEDIA[fmt], (to_xml("errors", doc) if fmt == "xml" else to_json(doc))
