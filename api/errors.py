"""One error hierarchy, mapped to HTTP statuses in one table; a catch-all for the rest.

Every error body is JSON: ``{"detail": "...", "code": "...", "errors": [{"field": ..., "reason": ...}]}``,
except under a standard's prefix, which gets that standard's error body (registered by the
standard's own routes: :func:`speak_standard`).
The spatial core raises domain errors without HTTP statuses (``spatial.errors``); the
services raise the :class:`ApiError` family; the database driver's connection failures
become 503 with ``Retry-After``; anything else is logged with the request id and answered
500 JSON without internals.

``detail`` is the English text for a developer; ``code`` is the stable key of the message a
person reads (``error.<code>`` in the translation catalogues, web/static/i18n/), with its
``params`` when the message has placeholders: the pages show the catalogue's text in their own
language and fall back to ``detail``. A class has a general code (``not_found``, ``conflict``...);
a raise names a closer one where a person meets it (``login_wrong``, ``state_conflict``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from spatial.errors import InputError, OutsideServiceArea, SwappedCoordinates, UnknownCode

log = logging.getLogger("gridgov.errors")

DB_RETRY_AFTER_S = 5


# The general message of each status (``error.<code>`` in the catalogues), for errors that name none.
STATUS_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "not_allowed",
    409: "conflict", 412: "stale", 413: "too_large", 415: "bad_request", 422: "invalid", 428: "stale",
    429: "rate_limited", 500: "internal", 503: "unavailable",
}


def status_code(status: int) -> str:
    return STATUS_CODES.get(status, "internal" if status >= 500 else "bad_request")


class ApiError(Exception):
    status = 400
    code: str | None = None  # None: the status's (STATUS_CODES)

    def __init__(self, detail: str, field: str | None = None, status: int | None = None,
                 headers: dict[str, str] | None = None, extra: dict | None = None,
                 code: str | None = None, params: dict | None = None):
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.headers = headers
        self.extra = extra or {}  # more members of the body (a 409 names the state and the allowed actions)
        if status:
            self.status = status
        self.code = code or self.code or status_code(self.status)
        self.params = params or {}  # the message's placeholders (error.<code> in the catalogues)


class Invalid(ApiError):
    status = 422


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class Unauthorized(ApiError):
    status = 401

    def __init__(self, detail: str, field: str | None = None, code: str | None = None):
        super().__init__(detail, field, headers={"WWW-Authenticate": "Bearer"}, code=code)


class Forbidden(ApiError):
    status = 403


class TooLarge(ApiError):
    status = 413


class TooManyRequests(ApiError):
    status = 429

    def __init__(self, detail: str, field: str | None = None, *, retry_after: int = 1, code: str | None = None):
        super().__init__(detail, field, headers={"Retry-After": str(retry_after)}, code=code,
                         params={"seconds": retry_after})


class Unavailable(ApiError):
    status = 503

    def __init__(self, detail: str, *, retry_after: int = DB_RETRY_AFTER_S):
        super().__init__(detail, headers={"Retry-After": str(retry_after)}, params={"seconds": retry_after})


# The one table: domain errors of the spatial core -> HTTP status.
DOMAIN_STATUS: dict[type[InputError], int] = {
    InputError: 422,
    UnknownCode: 422,
    SwappedCoordinates: 422,
    OutsideServiceArea: 422,
}


def error_body(detail: str, errors: list[dict] | None = None, extra: dict | None = None,
               code: str = "bad_request", params: dict | None = None) -> dict:
    body = {**(extra or {}), "detail": detail, "code": code, "errors": errors or []}
    if params:
        body["params"] = params
    return body


# Where the app speaks a standard, its errors take the standard's body (GeoReport v2 under
# /open311/, registered by api.routes.open311); the statuses stay this module's.
ErrorFormat = Callable[[str, int, str, list[dict] | None], tuple[int, str, bytes]]
STANDARDS: dict[str, ErrorFormat] = {}  # path prefix -> (path, status, detail, errors) -> its answer


def speak_standard(prefix: str, error: ErrorFormat) -> None:
    """Errors under ``prefix`` are answered by ``error``: (status, media type, body)."""
    STANDARDS[prefix] = error


def standard_error(path: str, status: int, detail: str, errors: list[dict] | None) -> tuple[int, str, bytes] | None:
    """(status, media type, body) of an error under a standard's prefix; None elsewhere."""
    for prefix, error in STANDARDS.items():
        if path.startswith(prefix):
            return error(path, status, detail, errors)
    return None


def error_response(status: int, detail: str, errors: list[dict] | None = None,
                   headers: dict[str, str] | None = None, extra: dict | None = None,
                   path: str = "", code: str | None = None, params: dict | None = None) -> Response:
    standard = standard_error(path, status, detail, errors)
    if standard is not None:
        standard_status, media_type, body = standard
        return Response(body, status_code=standard_status, media_type=media_type, headers=headers)
    return JSONResponse(error_body(detail, errors, extra, code or status_code(status), params),
                        status_code=status, headers=headers)


def unreadable_body(exc: StarletteHTTPException) -> str | None:
    """Why FastAPI could not decode a JSON body, when it answered with its bare 400 (a syntax
    error is a RequestValidationError instead); the decoder's error is the cause."""
    cause = exc.__cause__
    if exc.status_code != 400 or cause is None:
        return None
    if isinstance(cause, RecursionError):
        return "invalid JSON: arrays or objects nested too deeply"
    if isinstance(cause, UnicodeDecodeError):
        return "invalid JSON: the body is not UTF-8 text"
    return None


def _loc_to_field(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


def _field_error(e: dict) -> dict:
    loc = tuple(e.get("loc", ()))
    if e.get("type") == "json_invalid":  # loc is ("body", <character offset>): the field is the body
        where = f" at character {loc[-1]}" if len(loc) > 1 else ""
        detail = (e.get("ctx") or {}).get("error")
        return {"field": "body", "reason": f"invalid JSON{where}" + (f": {detail}" if detail else "")}
    return {"field": _loc_to_field(loc), "reason": e.get("msg", "invalid")}


# The body of every error, as documented in the OpenAPI schema (FastAPI documents its own
# ``{"detail": [...]}`` for 422, which this app never sends).
ERROR_BODY_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["detail", "errors"],
    "properties": {
        "detail": {"type": "string", "title": "Detail", "description": "what went wrong, in English"},
        "code": {"type": "string", "title": "Code",
                 "description": "the message's stable key: error.<code> in the translation catalogues"},
        "params": {"type": "object", "title": "Params", "description": "the message's placeholders"},
        "errors": {
            "type": "array", "title": "Errors",
            "items": {"type": "object", "required": ["field", "reason"], "properties": {
                "field": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                "reason": {"type": "string"},
            }},
        },
    },
}


def _document_error_body(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        doc = generate()
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        if "HTTPValidationError" in schemas:
            schemas["HTTPValidationError"] = ERROR_BODY_SCHEMA
            schemas.pop("ValidationError", None)
        schemas["Error"] = ERROR_BODY_SCHEMA
        error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for operations in doc.get("paths", {}).values():
            for op in operations.values():  # every operation may answer these, always in this shape
                responses = op.setdefault("responses", {})
                responses.setdefault("4XX", {"description": "Bad input, not allowed, not found, conflict or "
                                                            "too many requests (429, with Retry-After)", **error})
                responses.setdefault("503", {"description": "The database is not reachable; retry after "
                                                            "Retry-After seconds", **error})
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the schema


def database_unreachable(exc: BaseException) -> bool:
    """Whether a driver error means the database cannot be reached (down, restarting, gone)."""
    # psycopg_pool.PoolTimeout (no pooled connection came free: the database hangs) is an OperationalError
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return True
    # ReadOnlySqlTransaction (25006): a write on a connection to a node that is no longer the
    # primary (a failover under way); the pool drops that connection (api.db.get_conn)
    return isinstance(exc, psycopg.errors.AdminShutdown | psycopg.errors.CannotConnectNow
                      | psycopg.errors.CrashShutdown | psycopg.errors.ReadOnlySqlTransaction)


def install(app: FastAPI) -> None:
    _document_error_body(app)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        errors = [{"field": exc.field, "reason": exc.detail}] if exc.field else []
        params = {**({"field": exc.field} if exc.field else {}), **exc.params}
        return error_response(exc.status, exc.detail, errors, exc.headers, exc.extra, path=request.url.path,
                              code=exc.code, params=params)

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError):
        status = DOMAIN_STATUS.get(type(exc), 422)
        return error_response(status, f"{exc.field}: {exc.reason}", [{"field": exc.field, "reason": exc.reason}],
                              path=request.url.path, params={"field": exc.field})

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        errors = [_field_error(e) for e in exc.errors()]
        summary = "; ".join(f"{e['field']}: {e['reason']}" for e in errors) or "invalid request"
        return error_response(422, summary, errors, path=request.url.path,
                              params={"field": errors[0]["field"]} if errors else None)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        body_reason = unreadable_body(exc)
        if body_reason:
            return error_response(422, f"body: {body_reason}", [{"field": "body", "reason": body_reason}],
                                  path=request.url.path)
        return error_response(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None),
                              path=request.url.path)

    async def _database_error(request: Request, exc: Exception):
        if database_unreachable(exc):
            log.warning("database unreachable: %s", type(exc).__name__)
            err = Unavailable("the database is not reachable; retry shortly")
            return error_response(err.status, err.detail, headers=err.headers, path=request.url.path,
                                  code=err.code, params=err.params)
        raise exc  # a real bug: the catch-all in api.security answers it

    app.add_exception_handler(psycopg.Error, _database_error)
