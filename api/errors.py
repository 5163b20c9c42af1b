"""One error hierarchy, mapped to HTTP statuses in one place.

Every error body is JSON: ``{"detail": "...", "errors": [{"field": ..., "reason": ...}]}``.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from spatial.errors import InputError


class ApiError(Exception):
    status = 400

    def __init__(self, detail: str, field: str | None = None, status: int | None = None):
        super().__init__(detail)
        self.detail = detail
        self.field = field
        if status:
            self.status = status


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class TooLarge(ApiError):
    status = 413


class TooManyRequests(ApiError):
    status = 429


def error_body(detail: str, errors: list[dict] | None = None) -> dict:
    return {"detail": detail, "errors": errors or []}


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
        "detail": {"type": "string", "title": "Detail"},
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
        doc = generate()  # cached by FastAPI after the first call
        schemas = doc.get("components", {}).get("schemas", {})
        if "HTTPValidationError" in schemas:
            schemas["HTTPValidationError"] = ERROR_BODY_SCHEMA
            schemas.pop("ValidationError", None)
        return doc

    app.openapi = openapi


def install(app: FastAPI) -> None:
    _document_error_body(app)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        errors = [{"field": exc.field, "reason": exc.detail}] if exc.field else []
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(error_body(exc.detail, errors), status_code=exc.status, headers=headers)

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError):
        return JSONResponse(
            error_body(f"{exc.field}: {exc.reason}", [{"field": exc.field, "reason": exc.reason}]),
            status_code=exc.status,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        errors = [_field_error(e) for e in exc.errors()]
        summary = "; ".join(f"{e['field']}: {e['reason']}" for e in errors) or "invalid request"
        return JSONResponse(error_body(summary, errors), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        return JSONResponse(error_body(str(exc.detail)), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))
