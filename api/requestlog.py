"""One JSON log line per request (request id, method, path, status, duration), and the
catch-all: an exception nothing else answered is logged with its request id and becomes
a 500 JSON error carrying the security headers, never a text/plain traceback.

No query strings, bodies, tokens or contact details are logged: the path and the status say
what happened, the request id ties it to the client's report.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import secrets
import sys
import time

import orjson

from api.errors import standard_error
from api.security import response_headers

log = logging.getLogger("gridgov.request")
REQUEST_ID_HEADER = b"x-request-id"
SAFE_ID = re.compile(rb"^[A-Za-z0-9._-]{8,64}$")
# request ids: a random prefix per process and a counter (16 hex digits as before; unique, not secret,
# without a getrandom() call per request)
_ID_PREFIX = secrets.token_hex(4)
_ID_COUNTER = itertools.count()
ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME  # datetimes through str() as before


def new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_ID_COUNTER) & 0xFFFFFFFF:08x}"


class JsonFormatter(logging.Formatter):
    """Each record as one JSON object; ``extra={"fields": {...}}`` adds keys."""

    def format(self, record: logging.LogRecord) -> str:
        doc = {"ts": round(record.created, 3), "level": record.levelname.lower(), "logger": record.name,
               "msg": record.getMessage(), **getattr(record, "fields", {})}
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        try:
            return orjson.dumps(doc, default=str, option=ORJSON_OPTIONS).decode()
        except TypeError:  # an integer beyond 64 bits, say
            return json.dumps(doc, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler):
    """Writes to the ``sys.stderr`` of the moment, not the one of its creation (a test runner or a
    daemoniser may replace it; the handler lives as long as the process)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure_logging(level: int = logging.INFO) -> None:
    """Send gridgov's loggers to stderr as JSON lines (once per process)."""
    root = logging.getLogger("gridgov")
    if any(getattr(h, "_gridgov", False) for h in root.handlers):
        return
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter())
    handler._gridgov = True
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False


def _error_body(request_id: str) -> bytes:
    return json.dumps({"detail": f"internal error (request {request_id}); it has been logged",
                       "code": "internal", "errors": []}).encode()


class RequestLogMiddleware:
    def __init__(self, app, settings):
        self.app = app
        self.settings = settings

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        incoming = dict(scope.get("headers") or []).get(REQUEST_ID_HEADER, b"")
        request_id = incoming.decode() if SAFE_ID.match(incoming) else new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 0

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []),
                                                   (REQUEST_ID_HEADER, request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error", extra={"fields": {"request_id": request_id,
                                                                "path": scope.get("path")}})
            if status == 0:  # nothing sent yet: answer JSON, with the security headers
                code, media_type, body = 500, "application/json", _error_body(request_id)
                standard = standard_error(scope.get("path", ""), 500, json.loads(body)["detail"], [])
                if standard is not None:  # under a standard's prefix (/open311/): its error body
                    code, media_type, body = standard
                headers = [(b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode()),
                           *response_headers(self.settings, scope.get("path", ""))]
                await send_with_id({"type": "http.response.start", "status": code, "headers": headers})
                await send({"type": "http.response.body", "body": body})
        finally:
            log.info("request", extra={"fields": {
                "request_id": request_id, "method": scope.get("method"), "path": scope.get("path"),
                "status": status or 500, "ms": round((time.perf_counter() - started) * 1000, 2),
                "client": (scope.get("client") or ("",))[0]}})
