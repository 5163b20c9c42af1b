"""Transport-level protections: body size limit, security headers and CSP, CORS."""

from __future__ import annotations

import json

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api.settings import Settings

DOCS_PATHS = ("/docs", "/redoc")


def content_security_policy(settings: Settings, *, docs: bool = False) -> str:
    img = ["'self'", "data:", "blob:"]
    if settings.basemap_url:
        from urllib.parse import urlsplit
        parts = urlsplit(settings.basemap_url.replace("{s}", "a"))
        if parts.scheme and parts.netloc:
            img.append(f"{parts.scheme}://{parts.netloc.replace('a.', '*.', 1)}")
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
        self.limit = settings.max_body_bytes
        self.csp = content_security_policy(settings).encode()
        self.csp_docs = content_security_policy(settings, docs=True).encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await self._too_large(send)
        received = 0
        too_large = False

        async def limited_receive():
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
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
                    await self._too_large(send)
                return
            if message["type"] == "http.response.start":
                started = True
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"permissions-policy", b"geolocation=(self), camera=(self), microphone=()"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"content-security-policy", csp),
                ]
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge:
            if not started:
                await self._too_large(send)

    async def _too_large(self, send):
        body = json.dumps({"detail": f"request body larger than {self.limit} bytes",
                           "errors": [{"field": "body", "reason": f"at most {self.limit} bytes"}]}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    pass


def install(app: FastAPI, settings: Settings) -> None:
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=False,
                           allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "Idempotency-Key"])
    app.add_middleware(SecurityMiddleware, settings=settings)
