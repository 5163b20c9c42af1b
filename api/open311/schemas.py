"""The GeoReport v2 documents as models: what /openapi.json shows for the JSON format.

The XML format carries the same members under the spec's element names
(``api.open311.formats``). Public views leave out what the app never publishes: the
description and contact details of a report, staff, exact places and times.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.text import check_nested


class Endpoint(BaseModel):
    specification: str
    url: str
    changeset: str
    type: Literal["production", "test"]
    formats: list[str]


class Discovery(BaseModel):
    changeset: str
    contact: str
    key_service: str
    endpoints: list[Endpoint]


class Service(BaseModel):
    service_code: str = Field(description="the category code (GET /api/categories)")
    service_name: str = Field(description="the category's Chinese name")
    description: str
    metadata: bool = Field(description="true: services/{service_code} defines attributes to send")
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str
    group: str = Field(description="the responsible department (the first, when several)")


class AttributeValue(BaseModel):
    key: str
    name: str


class Attribute(BaseModel):
    variable: bool
    code: str
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    required: bool
    datatype_description: str | None
    order: int
    description: str
    values: list[AttributeValue]


class ServiceDefinition(BaseModel):
    service_code: str
    attributes: list[Attribute]


class ServiceRequest(BaseModel):
    """A request as anyone may see it: no description, no contact, no staff, no photos
    (there is no public photo URL); place to about 100 m, times to the hour."""

    service_request_id: str = Field(description="the public tracking code")
    status: Literal["open", "closed"]
    status_notes: str | None = Field(description="the case state, in Chinese and English")
    service_name: str
    service_code: str
    agency_responsible: str | None = Field(description="the responsible departments")
    service_notice: str | None
    requested_datetime: datetime = Field(description="to the hour")
    updated_datetime: datetime = Field(description="to the hour")
    expected_datetime: datetime | None = Field(description="the deadline, to the hour; none if not set")
    address: str | None = Field(description="the grid (or community) the report fell in")
    lat: float = Field(description="rounded to about 100 m")
    long: float = Field(description="rounded to about 100 m")


class RequestCreated(BaseModel):
    service_request_id: str = Field(description="the public tracking code: follow it with requests/{id}")
    token: str = Field(description="also answers tokens/{token} (the request is created at once)")
    service_notice: str
    account_id: str | None


class TokenAnswer(BaseModel):
    service_request_id: str
    token: str


class Open311Error(BaseModel):
    code: int
    description: str


# ------------------------------------------------------------------ the POST form

class RequestForm(BaseModel):
    """POST requests.{fmt}: a form (application/x-www-form-urlencoded), as the spec sends it.

    ``attribute[code]=value`` pairs come in the same form (see services/{service_code}).
    Contact details are stored encrypted and never published; ``media_url`` is kept as a
    link in the case file and never fetched.
    """

    model_config = ConfigDict(allow_inf_nan=False, extra="ignore")

    api_key: str | None = Field(None, max_length=200, description="the client app's key (`gridgov apikey add`)")
    jurisdiction_id: str | None = Field(None, max_length=32, description="the district code; optional")
    service_code: str = Field(min_length=1, max_length=64, description="the category code (services.{fmt})")
    lat: float | None = Field(None, description="WGS-84 latitude")
    long: float | None = Field(None, description="WGS-84 longitude")
    address_string: str | None = Field(None, max_length=500,
                                       description="not enough alone: this server has no geocoder, send lat/long")
    address_id: str | None = Field(None, max_length=100)
    email: str | None = Field(None, max_length=254)
    device_id: str | None = Field(None, max_length=100)
    account_id: str | None = Field(None, max_length=100)
    first_name: str | None = Field(None, max_length=60)
    last_name: str | None = Field(None, max_length=60)
    phone: str | None = Field(None, max_length=32)
    description: str | None = Field(None, max_length=2000, description="free text, at most 2000 characters")
    media_url: str | None = Field(None, max_length=2000, description="a link to a photo (kept, never fetched)")

    @field_validator("*", mode="before")
    @classmethod
    def _storable_text(cls, value):
        return check_nested(value)

    @field_validator("lat", "long", mode="before")
    @classmethod
    def _empty_is_missing(cls, value):
        return None if value == "" else value
