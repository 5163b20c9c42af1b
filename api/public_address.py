"""The address every link that leaves the server starts with (QR posters, Open311 discovery,
TileJSON, OGC links, exports), and who the caller is behind a reverse proxy."""

from __future__ import annotations

from starlette.requests import Request
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.settings import Settings


def public_base(settings: Settings, request: Request | None = None) -> str:
    """``GRIDGOV_PUBLIC_URL`` when set (production requires it); else the address this request
    came to, with the scheme and host a trusted proxy forwarded; else ``http://host:port``.
    Never a trailing slash."""
    if settings.public_url:
        return settings.public_url
    if request is not None:
        return str(request.base_url).rstrip("/")
    return f"http://{settings.host}:{settings.port}"


def install(app, settings: Settings) -> None:
    """Outermost: a request through a trusted proxy is the resident's (X-Forwarded-For) over the
    proxy's scheme (X-Forwarded-Proto), for the limits, the logs and the links alike. Headers from
    anyone else are ignored: a resident cannot choose their own address."""
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
