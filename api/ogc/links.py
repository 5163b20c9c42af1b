"""Absolute links that keep the request's other query parameters (pygeoapi habit)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request

from api.public_address import public_base

JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"


def base_url(request: Request) -> str:
    """The public address (``api.public_address``), without a trailing slash."""
    return public_base(request.app.state.settings, request)


def url(request: Request, path: str, **query) -> str:
    """An absolute URL of ``path`` with ``query`` (None values dropped)."""
    pairs = {k: v for k, v in query.items() if v is not None}
    return base_url(request) + path + ("?" + urlencode(pairs) if pairs else "")


def same_query(request: Request, **changes) -> str:
    """This request's URL with some query parameters replaced (None removes one)."""
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    pairs += [(k, str(v)) for k, v in changes.items() if v is not None]
    return base_url(request) + request.url.path + ("?" + urlencode(pairs) if pairs else "")
