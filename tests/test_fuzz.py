"""Hostile values in every parameter of every operation: the answer is a 4xx JSON error (or a
success when the value happens to be acceptable), never a 5xx and never a non-JSON error.

The operations and their parameters come from the app's own /openapi.json, so a new route
or parameter is fuzzed without touching this file. Each request is valid except for the
one parameter under attack (valid examples below, built from the sample data), sent as an
admin so that it passes authorisation and reaches the code; public operations are also
sent anonymously. The values: NUL bytes, a lone UTF-16 surrogate, a 10 kB string, huge and
non-finite numbers, and every wrong JSON type.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import sqlalchemy as sa

from api.main import create_app
from api.settings import Settings

DISTRICT = "330503"
OPENAPI = create_app(Settings(env="test")).openapi()

# kind -> (JSON literal for bodies, text for URLs/forms/headers; None = cannot be expressed there)
# Text values are percent-encoded where they go into URLs; "%ED%A0%80" is the UTF-8-style
# encoding of the lone surrogate U+D800 (invalid UTF-8), sent as raw bytes.
HOSTILE: dict[str, tuple[str, str | None]] = {
    "nul": ('"a\\u0000b"', "a\x00b"),
    "lone_surrogate": ('"a\\ud800b"', None),  # text form handled per location (raw bytes)
    "10kB": (json.dumps("x" * 10_240), "x" * 10_240),
    "huge": ("1e308", "1e308"),
    "huge_negative": ("-1e308", "-1e308"),
    "beyond_float": ("1" + "0" * 400, "1" + "0" * 400),
    "nan": ("NaN", "NaN"),
    "infinity": ("Infinity", "Infinity"),
    "minus_infinity": ("-Infinity", "-Infinity"),
    "list": ("[1, 2]", "[1,2]"),
    "object": ('{"a": 1}', '{"a":1}'),
    "bool": ("true", "true"),
    "null": ("null", ""),
    "number": ("12345", "12345"),
    "string": ('"abc"', "abc"),
}
SURROGATE_URL = "a%ED%A0%80b"


@dataclass
class Base:
    """A valid request for one operation: path values, query, headers, JSON or form body."""

    path: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] | None = None
    form: dict[str, str] | None = None


@pytest.fixture(scope="module")
def world(client, engine, make_user, login):
    with engine.connect() as conn:
        unit = conn.execute(sa.text("SELECT code FROM unit WHERE department_code = 'police' ORDER BY code LIMIT 1")).scalar_one()
        inc = conn.execute(sa.text("""SELECT id, ST_X(location) AS lon, ST_Y(location) AS lat FROM incident
                                      WHERE grid_code IS NOT NULL ORDER BY id LIMIT 1""")).one()
    case = client.post("/api/incidents", json={"category": "noise", "lon": inc.lon, "lat": inc.lat}).json()
    admin_account = make_user("admin", DISTRICT)
    login_user = make_user("dispatcher", DISTRICT)
    point = {"lon": inc.lon, "lat": inc.lat}
    bases = {
        ("POST", "/api/auth/token"): Base(form={"username": login_user[0], "password": login_user[1]}),
        ("POST", "/api/auth/refresh"): Base(json={"refresh_token": "x" * 40}),
        ("POST", "/api/auth/logout"): Base(),
        ("GET", "/api/auth/me"): Base(),
        ("GET", "/api/categories"): Base(),
        ("GET", "/api/departments"): Base(),
        ("GET", "/api/areas"): Base(query={"kind": "street"}),
        ("GET", "/api/stations"): Base(),
        ("GET", "/api/units"): Base(),
        ("GET", "/api/route"): Base(query={**{k: str(v) for k, v in point.items()}, "category": "noise"}),
        ("POST", "/api/incidents"): Base(json={"category": "noise", **point},
                                         headers={"Idempotency-Key": "fuzz-key-0123456789abcdef"}),
        ("GET", "/api/incidents"): Base(query={"limit": "2"}),
        ("GET", "/api/incidents/{incident_id}"): Base(path={"incident_id": str(inc.id)}),
        ("GET", "/api/public/incidents/{tracking_code}"): Base(
            path={"tracking_code": case["tracking_code"]}, headers={"X-Reporter-Token": case["reporter_token"]}),
        ("POST", "/api/public/incidents/{tracking_code}/rating"): Base(
            path={"tracking_code": case["tracking_code"]}, headers={"X-Reporter-Token": case["reporter_token"]},
            json={"rating": 4, "comment": "ok"}),
        ("POST", "/api/units/{code}/position"): Base(path={"code": unit}, json={**point, "accuracy_m": 10}),
        ("GET", "/api/admin/audit"): Base(query={"limit": "2"}),
    }
    return {"client": client, "bases": bases, "admin": login(*admin_account)}


def operations() -> list[tuple[str, str, dict]]:
    return [(method.upper(), path, op) for path, ops in OPENAPI["paths"].items() for method, op in ops.items()]


def targets(op: dict, base: Base) -> list[tuple[str, str]]:
    """(location, name) of every parameter of the operation, plus the bearer token."""
    out = [(p["in"], p["name"]) for p in op.get("parameters", [])]
    content = op.get("requestBody", {}).get("content", {})
    for media, where in (("application/json", "json"), ("application/x-www-form-urlencoded", "form")):
        if media in content:
            schema = content[media]["schema"]
            if "$ref" in schema:
                schema = OPENAPI["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
            out += [(where, name) for name in schema.get("properties", {})]
    if op.get("security"):
        out.append(("header", "Authorization"))
    return out


def request_for(base: Base, path: str, where: str, name: str, kind: str) -> dict | None:
    """The keyword arguments of one hostile request, or None where HTTP itself cannot carry the value."""
    json_literal, text = HOSTILE[kind]
    query = dict(base.query)
    headers = dict(base.headers)
    url_path = path
    for key, value in base.path.items():
        if not (where == "path" and key == name):
            url_path = url_path.replace("{" + key + "}", quote(value, safe=""))
    raw_query = ""
    if where == "path":
        url_path = url_path.replace("{" + name + "}", SURROGATE_URL if text is None else quote(text, safe=""))
    elif where == "query":
        query.pop(name, None)
        raw_query = f"{name}={SURROGATE_URL if text is None else quote(text, safe='')}"
    elif where == "header":
        if text is None or "\x00" in text:
            return None  # HTTP header values cannot carry NUL or non-Latin-1 text: the client refuses
        headers[name] = f"Bearer {text}" if name == "Authorization" else text
    qs = "&".join(filter(None, [urlencode(query), raw_query]))
    kwargs: dict[str, Any] = {"url": url_path + (f"?{qs}" if qs else ""), "headers": headers}
    if base.json is not None or where == "json":
        doc = json.dumps({k: v for k, v in (base.json or {}).items() if not (where == "json" and k == name)})
        if where == "json":
            doc = doc[:-1] + (", " if doc != "{}" else "") + f'"{name}": {json_literal}' + "}"
        kwargs["content"] = doc.encode()
        headers["Content-Type"] = "application/json"
    elif base.form is not None:
        fields = {k: v for k, v in base.form.items() if not (where == "form" and k == name)}
        body = urlencode(fields)
        if where == "form":
            body += f"&{name}={SURROGATE_URL if text is None else quote(text, safe='')}"
        kwargs["content"] = body.encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    return kwargs


def check(res) -> str | None:
    """What is wrong with an answer to a hostile request (None: a 2xx, or a proper 4xx JSON error)."""
    if res.status_code >= 500:
        return f"{res.status_code} {res.text[:200]}"
    if res.status_code >= 400:
        if res.headers.get("content-type") != "application/json":
            return f"{res.status_code} with content-type {res.headers.get('content-type')}"
        body = res.json()
        if not (isinstance(body.get("detail"), str) and isinstance(body.get("errors"), list)):
            return f"{res.status_code} without the error body: {res.text[:200]}"
        if res.status_code == 422 and not all(e.get("field") for e in body["errors"]) or \
                res.status_code == 422 and not body["errors"]:
            return f"422 that names no field: {res.text[:200]}"
    return None


OPS = operations()


def test_every_operation_has_a_valid_example(world):
    assert {(m, p) for m, p, _ in OPS} == set(world["bases"]), "add a valid example for the new operation"


@pytest.mark.parametrize("method,path,op", OPS, ids=[f"{m} {p}" for m, p, _ in OPS])
def test_hostile_values_in_every_parameter(world, method, path, op):
    client, base = world["client"], world["bases"][(method, path)]
    callers = {"admin": world["admin"]}
    if not op.get("security"):
        callers["anonymous"] = {}
    failures, sent = [], 0
    for where, name in targets(op, base):
        for kind in HOSTILE:
            kwargs = request_for(base, path, where, name, kind)
            if kwargs is None:
                continue
            for caller, auth in callers.items():
                if where == "header" and name == "Authorization":
                    headers = kwargs["headers"]
                else:
                    headers = {**auth, **kwargs["headers"]}
                if path == "/api/auth/logout" and caller == "admin" and name != "Authorization":
                    continue  # logout has no parameter but the token: never end the run's session
                res = client.request(method, kwargs["url"], headers=headers, content=kwargs.get("content"))
                sent += 1
                problem = check(res)
                if problem:
                    failures.append(f"{where} {name} = {kind} as {caller}: {problem}")
    assert sent > 0
    assert not failures, f"{method} {path}: {len(failures)} bad answers of {sent}:\n  " + "\n  ".join(failures)
