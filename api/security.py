"""Transport-level protections: body size limit, security headers and CSP, CORS."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api.errors import error_body, standard_error, status_code
from api.settings import Settings
from api.text import bad_text_reason

DOCS_PATHS = ("/docs", "/redoc")


UPLOAD_SUFFIXES = ("/attachments", "/api/areas/import", "/api/route/batch")  # photos; layer files; point files


def content_security_policy(settings: Settings, *, docs: bool = False) -> str:
    from api.basemap import image_sources

    img = ["'self'", "data:", "blob:", *image_sources(settings)]  # the base-map preset's tile hosts
    script = "'self' 'unsafe-inline'" if docs else "'self'"  # Swagger UI boots from an inline script
    style = "'self' 'unsafe-inline'" if docs else "'self'"
    return "; ".join([
        "default-src 'self'", f"script-src {script}", f"style-src {style}", f"img-src {' '.join(img)}",
        "connect-src 'self'", "font-src 'self'", "object-src 'none'", "base-uri 'self'",
        "form-action 'self'", "frame-ancestors 'none'",
    ])


class SecurityMiddleware:
    """Pure ASGI: refuses bodies over the limit (413 JSON) and adds security headers."""

    def __init__(self, app, settings: Settings):
        self.app = app
        self.default_limit = settings.max_body_bytes
        self.upload_limit = settings.max_upload_bytes  # photo uploads (multipart) get more room
        self.csp = content_security_policy(settings).encode()
        self.csp_docs = content_security_policy(settings, docs=True).encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        limit = self.upload_limit if path.endswith(UPLOAD_SUFFIXES) else self.default_limit
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return await self._too_large(send, path, limit)
        bad = _bad_url_text(scope)
        if bad:
            return await self._unstorable(send, path, *bad)
        received = 0
        too_large = False

        async def limited_receive():
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise BodyTooLarge()
            return message

        csp = self.csp_docs if path.startswith(DOCS_PATHS) else self.csp
        started = False

        async def send_with_headers(message):
            nonlocal started
            if too_large:  # the app caught BodyTooLarge (FastAPI turns it into a 400): answer 413
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._too_large(send, path, limit)
                return
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": list(message.get("headers", [])) + _headers(csp)}
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge:
            if not started:
                await self._too_large(send, path, limit)

    async def _too_large(self, send, path: str, limit: int):
        await self._error(send, path, 413, "body", f"at most {limit} bytes",
                          f"request body larger than {limit} bytes")

    async def _unstorable(self, send, path: str, field: str, reason: str):
        await self._error(send, path, 422, field, reason, f"{field}: {reason}")

    async def _error(self, send, path: str, status: int, field: str, reason: str, detail: str):
        body = json.dumps(error_body(detail, [{"field": field, "reason": reason}], code=status_code(status),
                                     params={"field": field})).encode()
        media_type = "application/json"
        standard = standard_error(path, status, detail, [{"field": field, "reason": reason}])
        if standard is not None:  # under a standard's prefix (/open311/): its error body
            status, media_type, body = standard
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode()),
                                *_headers(self.csp_docs if path.startswith(DOCS_PATHS) else self.csp)]})
        await send({"type": "http.response.body", "body": body})


def _bad_url_text(scope) -> tuple[str, str] | None:
    """(field, reason) for NUL or lone surrogates in the path or a query parameter."""
    reason = bad_text_reason(scope.get("path", ""))
    if reason:
        return "path", reason
    for key, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
        reason = bad_text_reason(key) or bad_text_reason(value)
        if reason:
            return key[:64], reason
    return None


def _headers(csp: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"permissions-policy", b"geolocation=(self), camera=(self), microphone=()"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"content-security-policy", csp),
    ]


def response_headers(settings: Settings, path: str) -> list[tuple[bytes, bytes]]:
    """The security headers every response carries (for answers made outside this middleware)."""
    return _headers(content_security_policy(settings, docs=path.startswith(DOCS_PATHS)).encode())


class BodyTooLarge(Exception):
    pass


def install(app: FastAPI, settings: Settings) -> None:
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=False,
                           allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "Idempotency-Key"])
    app.add_middleware(SecurityMiddleware, settings=settings)
