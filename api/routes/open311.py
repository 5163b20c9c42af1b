"""Open311 GeoReport v2 (``/open311/v2/``): every endpoint in ``.json`` and ``.xml``.

Thin: parse, authorise, call one service (``api.open311``), render in the format the path
asks for. Errors under /open311 take the spec's body (registered here with ``api.errors``):
``[{"code": 400, "description": "..."}]`` or ``<errors><error>...``, with 400 for bad input.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request

from api import errors
from api.auth.deps import Public, PublicAlwaysLimited
from api.db import ConnDep
from api.open311 import JURISDICTION_HELP, discovery as discovery_doc, formats, requests, services
from api.open311.schemas import (
    Discovery,
    Open311Error,
    RequestCreated,
    RequestForm,
    Service,
    ServiceDefinition,
    ServiceRequest,
    TokenAnswer,
)
from api.public_address import public_base

router = APIRouter(prefix="/open311/v2", tags=["open311"])
# every error under /open311/ (an unknown version or path too, a 413, a 500) takes the spec's body
errors.speak_standard("/open311/", formats.error_bytes)

Fmt = Annotated[formats.Format, Path(description="json or xml")]
Jurisdiction = Annotated[str | None, Query(max_length=32, description=JURISDICTION_HELP)]
SPEC_ERRORS = {"application/json": {"schema": {"type": "array", "items": Open311Error.model_json_schema()}},
               "text/xml": {"schema": {"type": "string", "description": "<errors><error><code/><description/>"
                                                                       "</error></errors>"}}}


def documented(root: str, status: int = 200) -> dict:
    """The XML form of the answer and the spec's error bodies, for /openapi.json."""
    return {
        status: {"content": {"text/xml": {"schema": {"type": "string", "description": f"<{root}> (GeoReport v2)"}}}},
        "4XX": {"description": "bad input (400), bad api_key (403), unknown id, code or jurisdiction (404), "
                               "too many requests (429, with Retry-After): the spec's error list",
                "content": SPEC_ERRORS},
        "503": {"description": "the database is not reachable; retry after Retry-After seconds",
                "content": SPEC_ERRORS},
    }


@router.get("/discovery.{fmt}", response_model=Discovery, responses=documented("discovery"))
async def discovery(fmt: Fmt, request: Request, who: Public):
    """Where this endpoint is, its formats and how a client app gets a key."""
    settings = request.app.state.settings
    return formats.render(fmt, "discovery", discovery_doc.document(public_base(settings, request), settings))


@router.get("/services.{fmt}", response_model=list[Service], responses=documented("services"))
async def service_list(fmt: Fmt, who: Public, conn: ConnDep, jurisdiction_id: Jurisdiction = None):
    """The categories one may report (service_code = the category code)."""
    await requests.jurisdiction(conn, jurisdiction_id)
    return formats.render(fmt, "services", await services.service_list(conn))


@router.get("/services/{service_code}.{fmt}", response_model=ServiceDefinition,
            responses=documented("service_definition"))
async def service_definition(service_code: Annotated[str, Path(max_length=64)], fmt: Fmt, who: Public, conn: ConnDep,
                             jurisdiction_id: Jurisdiction = None):
    """The attributes a request of this service may carry (none for most)."""
    await requests.jurisdiction(conn, jurisdiction_id)
    return formats.render(fmt, "service_definition", await services.definition(conn, service_code))


@router.get("/requests.{fmt}", response_model=list[ServiceRequest], responses=documented("service_requests"))
async def request_list(
    fmt: Fmt, request: Request, who: Public, conn: ConnDep, jurisdiction_id: Jurisdiction = None,
    service_request_id: str | None = Query(None, max_length=4000, description="comma separated; overrides the rest"),
    service_code: str | None = Query(None, max_length=2000, description="comma separated"),
    start_date: str | None = Query(None, max_length=40, description="W3C datetime; default: 90 days ago"),
    end_date: str | None = Query(None, max_length=40, description="W3C datetime; at most 90 days after start_date"),
    status: str | None = Query(None, max_length=20, description="open, closed, or both comma separated"),
):
    """Service requests (the newest 1000 in at most 90 days), as the public track view shows them."""
    district = await requests.jurisdiction(conn, jurisdiction_id)
    found = await requests.search(conn, request.app.state.settings, district=district,
                                  service_request_id=service_request_id, service_code=service_code,
                                  start_date=start_date, end_date=end_date, status=status)
    return formats.render(fmt, "service_requests", found)


@router.post("/requests.{fmt}", status_code=201, response_model=list[RequestCreated],
             responses=documented("service_requests", 201))
async def create_request(fmt: Fmt, form: Annotated[RequestForm, Form()], request: Request,
                         who: PublicAlwaysLimited, conn: ConnDep):
    """Post a request (form-encoded, with the client app's api_key); routed at once like every report."""
    items = list((await request.form()).multi_items())  # attribute[...] pairs are not fields of the model
    created = await requests.create(conn, who, request.app.state.settings, form, items)
    return formats.render(fmt, "service_requests", [created], status=201)


@router.get("/requests/{service_request_id}.{fmt}", response_model=list[ServiceRequest],
            responses=documented("service_requests"))
async def request_item(service_request_id: Annotated[str, Path(max_length=32)], fmt: Fmt, request: Request,
                       who: Public, conn: ConnDep, jurisdiction_id: Jurisdiction = None):
    """One service request by its id (the tracking code)."""
    district = await requests.jurisdiction(conn, jurisdiction_id)
    return formats.render(fmt, "service_requests",
                          [await requests.read(conn, request.app.state.settings, district, service_request_id)])


@router.get("/tokens/{token}.{fmt}", response_model=list[TokenAnswer], responses=documented("service_requests"))
async def token(token: Annotated[str, Path(max_length=64)], fmt: Fmt, who: Public, conn: ConnDep,
                jurisdiction_id: Jurisdiction = None):
    """The service request id a POST's token stands for."""
    district = await requests.jurisdiction(conn, jurisdiction_id)
    return formats.render(fmt, "service_requests", [await requests.by_token(conn, district, token)])
