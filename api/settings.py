"""Settings, read from the environment (prefix ``GRIDGOV_``) once per process."""

from __future__ import annotations

import functools
import ipaddress
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from api import dburl, secrets_store

PROJECT_ROOT = Path(__file__).resolve().parents[1]



class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRIDGOV_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    home: Path = PROJECT_ROOT
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "GRIDGOV_DATABASE_URL")
    )
    pg_port: int = 54329
    pg_database: str = "gridgov"
    pg_user: str = "gridgov"

    host: str = "127.0.0.1"
    port: int = 8000
    # connections: each worker has one pool (api.db) of at most pool_size connections, plus its
    # LISTEN connection; the workers' sum must fit the cluster's max_connections (checked at start)
    pool_size: int = Field(default=24, ge=2)
    pool_min: int = Field(default=4, ge=1)  # kept open while idle
    workers: int = Field(default=1, ge=1)  # worker processes sharing the cluster (`gridgov serve` sets it)

    # secrets: from the environment, else generated once into .gridgov/secrets.json
    # (development and test only; production refuses to start without them)
    secret_key: str | None = Field(default=None, repr=False)  # signs the tokens: rotating it ends every session
    hash_key: str | None = Field(default=None, repr=False)  # keys stored digests: API keys, phones, imported ids
    contact_key: str | None = Field(default=None, repr=False)
    qr_key: str | None = Field(default=None, repr=False)  # NEW,OLD during a rotation: OLD accepted until
    qr_overlap_until: datetime | None = None  # ... this time (ISO 8601; without an offset: in GRIDGOV_TIMEZONE)
    # the address residents' phones and other systems reach: every link that leaves the server
    # (QR posters, Open311 discovery, TileJSON, OGC links, exports); required in production
    public_url: str | None = None
    # reverse proxies (IP addresses or networks) whose X-Forwarded-For and -Proto are believed
    trusted_proxies: Annotated[list[str], NoDecode] = []
    timezone: str = "Asia/Shanghai"  # how times without an offset are read
    access_token_minutes: int = 15
    refresh_token_days: int = 7
    auth_cache_s: float = 30.0  # a worker trusts a session it checked this long (0: ask the database each time)

    # routing
    boundary_tolerance_m: float = 20.0
    stale_position_s: int = 1800
    units_per_department: int = 3
    unit_position_margin_m: float = 50_000.0  # unit fixes farther than this from every district are refused
    # reports outside every grid but within this of a district are kept for the desk (a phone's fix
    # by the border); farther ones are refused, naming the distance (a wrong point, or not ours)
    report_margin_m: float = Field(default=10_000.0, ge=0)
    # grid workers' patrols (api.patrols): tracks kept this long, then the scheduler drops the geometry
    # (the summary stays); a grid with no patrol for stale_days is listed for its community's desk
    patrol_retention_days: int = Field(default=90, ge=1)
    patrol_stale_days: int = Field(default=7, ge=1)
    patrol_max_speed_mps: float = Field(default=50.0, gt=0)  # a faster jump between two fixes is refused
    patrol_margin_m: float = Field(default=5_000.0, ge=0)  # fixes farther than this from every district: refused

    # limits
    max_body_bytes: int = 1_000_000
    max_upload_bytes: int = 9_000_000  # photo uploads (8 MB of image plus the multipart envelope)
    page_limit_max: int = 1000
    public_rate_per_minute: int = 60  # per phone (X-Device-Secret), or per address without one
    public_ip_rate_per_minute: int = 1200  # ceiling per address: a carrier NAT hides many phones
    cors_origins: Annotated[list[str], NoDecode] = []  # a JSON list, or comma-separated
    # the command-room cycle (api.workflow)
    working_day_start: str = "09:00"   # office hours for deadlines counted in working hours
    working_day_end: str = "17:00"
    calendar_file: Path | None = None  # holidays of years the chinesecalendar package does not cover yet
    department_answer_deadline: str = "1wd"  # 乡呼县应: a called district department answers within
    supervision_interval_s: int = 60   # how often the deadline scheduler looks
    # the demo heartbeat (api.demo_heartbeat): the sample's units keep moving on the scheduler's timer.
    # Unset: on in development (`make run`), off in test and production; true in production is refused
    demo_heartbeat: bool | None = None
    demo_heartbeat_s: int = Field(default=300, ge=30)  # a unit whose fix is older than this takes a step
    # base maps (README "Base maps"): the offline base drawn from the project's own outlines is
    # always there; a preset adds tiles under it
    basemap: Literal["offline", "tianditu", "amap", "xyz", "mbtiles"] = "offline"
    basemap_url: str | None = None  # xyz: a {z}/{x}/{y} template (WMTS in KVP form works too)
    basemap_crs: Literal["wgs84", "gcj02"] = "wgs84"  # xyz: the datum its tiles are drawn in
    basemap_attribution: str = ""
    basemap_file: Path | None = None  # mbtiles: the .mbtiles file served at /basemap/{z}/{x}/{y}
    tianditu_key: str | None = Field(default=None, repr=False)  # tianditu: the deployment's key (tk)
    # joint inspections (README "Joint inspections"): visits a team makes in a day, how near the
    # place an officer must be to arrive, the routing solver's time per plan, and the days between
    # visits as JSON overriding the defaults ({"high": 30, "restaurant:medium": 60}, api.inspections.due)
    inspection_visits_per_day: int = Field(default=12, ge=1, le=200)
    inspection_arrive_radius_m: float = Field(default=200.0, gt=0)
    inspection_solver_s: float = Field(default=1.0, gt=0, le=60)
    inspection_intervals: str = ""

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _a_list(cls, value: object) -> object:
        """``["https://a", "https://b"]`` or ``https://a,https://b``."""
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("[") else [o.strip() for o in text.split(",") if o.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network (10.0.0.5, 10.0.0.0/24)") from None
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("must be http(s)://host[:port][/path], e.g. https://gridgov.example.gov.cn")
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _basemap(self) -> Settings:
        """A preset without what it needs is refused at start, naming the setting."""
        needs = {"tianditu": "tianditu_key", "xyz": "basemap_url", "mbtiles": "basemap_file"}
        missing = needs.get(self.basemap)
        if missing and not getattr(self, missing):
            raise ValueError(f"GRIDGOV_BASEMAP={self.basemap} needs GRIDGOV_{missing.upper()}")
        if self.basemap_url and self.basemap == "offline":  # the older setting alone: an XYZ source
            object.__setattr__(self, "basemap", "xyz")
        return self

    @property
    def data_dir(self) -> Path:
        return self.home / ".gridgov"

    @property
    def pg_dir(self) -> Path:
        return self.data_dir / "pg"

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @property
    def url(self) -> str:
        """URL of the database the app uses, with the psycopg 3 driver named (alembic's form;
        ``libpq_url`` for psycopg)."""
        if self.database_url:
            return normalise_url(self.database_url)
        return (
            f"postgresql+psycopg://{self.pg_user}@/{self.pg_database}"
            f"?host={self.pg_dir}&port={self.pg_port}"
        )

    @model_validator(mode="after")
    def _secrets(self) -> Settings:
        """Given secrets are checked; missing ones are generated (never in production)."""
        if self.secret_key is not None and self.hash_key is None:  # never guessed: the digests depend on it
            raise ValueError("GRIDGOV_SECRET_KEY is given but GRIDGOV_HASH_KEY is not: it keys the stored digests "
                             "(Open311 API keys, phones, imported ids); an install from before it existed sets "
                             "it to its current GRIDGOV_SECRET_KEY, a new one to another 32+ random characters")
        missing = [name for name in secrets_store.GENERATORS if getattr(self, name) is None]
        if missing and self.env == "production":
            raise ValueError("production needs its secrets from the environment: set "
                             + ", ".join(f"GRIDGOV_{m.upper()}" for m in missing))
        if missing:
            stored = secrets_store.load_or_create(self.data_dir)
            for name in missing:
                object.__setattr__(self, name, stored[name])
            if "qr_key" in missing and self.qr_overlap_until is None and stored.get(secrets_store.QR_OVERLAP_UNTIL):
                object.__setattr__(self, "qr_overlap_until",
                                   datetime.fromisoformat(stored[secrets_store.QR_OVERLAP_UNTIL]))
        for name, check in secrets_store.CHECKS.items():
            try:
                check(getattr(self, name))
            except secrets_store.SecretsError as exc:
                raise ValueError(str(exc)) from None
        self._qr_overlap()
        return self

    def _qr_overlap(self) -> None:
        """NEW,OLD QR keys need the end of the overlap; a time without an offset is in ``timezone``."""
        if self.qr_overlap_until is not None and self.qr_overlap_until.tzinfo is None:
            from zoneinfo import ZoneInfo

            object.__setattr__(self, "qr_overlap_until", self.qr_overlap_until.replace(tzinfo=ZoneInfo(self.timezone)))
        if "," in (self.qr_key or "") and self.qr_overlap_until is None:
            raise ValueError("GRIDGOV_QR_KEY=NEW,OLD needs GRIDGOV_QR_OVERLAP_UNTIL: until when posters signed "
                             "with OLD are accepted (e.g. 2027-06-30)")

    @property
    def heartbeat_on(self) -> bool:
        """Whether the demo heartbeat moves the sample's units (GRIDGOV_DEMO_HEARTBEAT)."""
        return self.env == "development" if self.demo_heartbeat is None else self.demo_heartbeat

    @model_validator(mode="after")
    def _no_demo_in_production(self) -> Settings:
        if self.env == "production" and self.demo_heartbeat:
            raise ValueError("GRIDGOV_DEMO_HEARTBEAT moves the sample's units with made-up fixes: "
                             "not in production (unset it)")
        return self

    @model_validator(mode="after")
    def _production_address(self) -> Settings:
        """QR posters and every link that leaves the server need the address the public reaches."""
        if self.env == "production" and not self.public_url:
            raise ValueError("production needs GRIDGOV_PUBLIC_URL: the https address residents' phones reach "
                             "(QR posters, Open311 and map links point there)")
        return self


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and pin the psycopg 3 driver; a multi-host URL (a Patroni
    cluster) gets its hosts as ``host=`` parameters, the form SQLAlchemy reads (``api.dburl``)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
            break
    return dburl.to_sqlalchemy(url)


def libpq_url(sqlalchemy_url: str) -> str:
    """The same URL without the SQLAlchemy driver suffix, for psycopg/libpq (several hosts back in
    the authority: ``h1:p1,h2:p2``)."""
    return dburl.to_libpq(sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1))


@functools.lru_cache
def get_settings() -> Settings:
    return Settings()
