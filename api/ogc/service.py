"""The OGC API – Features endpoints over the area layers (one collection per kind)."""

from __future__ import annotations

from datetime import UTC, datetime

from psycopg import AsyncConnection
from starlette.requests import Request

from api.auth.principal import Principal
from api.errors import Invalid, NotFound
from api.layers import layer_page as area_layer_page
from api.ogc.links import GEOJSON, JSON, OPENAPI, same_query, url
from api.places import service as places

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
# id -> (title, description): Chinese first, English after
COLLECTIONS = {
    "district": ("区县 District", "区县边界 · district boundaries"),
    "street": ("街道/乡镇 Street", "街道、乡镇边界 · streets and towns"),
    "community": ("社区/村 Community", "社区、行政村边界 · communities and villages"),
    "grid": ("网格 Grid", "基层治理网格 · governance grids"),
    "zone": ("工作站辖区 Zone", "联动工作站辖区 · linkage workstation territories"),
    "patrol_zone": ("巡区 Patrol zone", "各部门巡区 · patrol zones of each department"),
    "place": ("场所 Place", "民情地图的场所 (企业、商铺、出租房 ...) · the places register, no contact details"),
}
PLACES = "place"  # not an area kind: scoped by read_places (api.places.service), current versions only
DEFAULT_LIMIT = 100


def landing(request: Request) -> dict:
    return {
        "title": "gridgov OGC API – Features",
        "description": "网格化基层治理的区域图层 · the area layers of grid-based governance",
        "links": [
            {"href": url(request, "/ogc"), "rel": "self", "type": JSON, "title": "this document"},
            {"href": url(request, "/openapi.json"), "rel": "service-desc", "type": OPENAPI,
             "title": "the API definition"},
            {"href": url(request, "/docs"), "rel": "service-doc", "type": "text/html", "title": "API documentation"},
            {"href": url(request, "/ogc/conformance"), "rel": "conformance", "type": JSON,
             "title": "conformance classes"},
            {"href": url(request, "/ogc/collections"), "rel": "data", "type": JSON, "title": "the collections"},
        ],
    }


def conformance() -> dict:
    return {"conformsTo": CONFORMANCE}


def _known(collection_id: str) -> None:
    if collection_id not in COLLECTIONS:
        raise NotFound(f"no collection {collection_id!r}: one of {', '.join(COLLECTIONS)}", field="collection_id")


async def layer_page(conn: AsyncConnection, who: Principal, *, kind: str, as_of: datetime | None = None,
                     **kw) -> dict:
    """One collection's page: an area kind, or the places register."""
    if kind != PLACES:
        return await area_layer_page(conn, who, kind=kind, as_of=as_of, **kw)
    if as_of is not None:
        raise Invalid("places are served as they are now: their versions are at /api/places/{code}/history",
                      field="datetime")
    return await places.layer_page(conn, who, **kw)


async def _collection(conn: AsyncConnection, who: Principal, request: Request, collection_id: str) -> dict:
    title, description = COLLECTIONS[collection_id]
    doc = await layer_page(conn, who, kind=collection_id, limit=0, extent=True)
    items = f"/ogc/collections/{collection_id}/items"
    out = {
        "id": collection_id, "title": title, "description": description, "itemType": "feature", "crs": [CRS84],
        "links": [
            {"href": url(request, f"/ogc/collections/{collection_id}"), "rel": "self", "type": JSON, "title": title},
            {"href": url(request, items), "rel": "items", "type": GEOJSON, "title": title},
        ],
    }
    if doc.get("bbox"):
        out["extent"] = {"spatial": {"bbox": [doc["bbox"]], "crs": CRS84}}
    return out


async def collections(conn: AsyncConnection, who: Principal, request: Request) -> dict:
    return {
        "collections": [await _collection(conn, who, request, cid) for cid in COLLECTIONS],
        "links": [{"href": url(request, "/ogc/collections"), "rel": "self", "type": JSON, "title": "collections"}],
    }


async def collection(conn: AsyncConnection, who: Principal, request: Request, collection_id: str) -> dict:
    _known(collection_id)
    return await _collection(conn, who, request, collection_id)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


async def items(conn: AsyncConnection, who: Principal, request: Request, collection_id: str, *,
                bbox: dict, limit: int, offset: int, as_of: datetime | None = None) -> dict:
    """One page of the collection's features (current, or valid at ``as_of``), with absolute
    self / next / prev links."""
    _known(collection_id)
    doc = await layer_page(conn, who, kind=collection_id, bbox=bbox, limit=limit, offset=offset, as_of=as_of)
    matched, returned = doc["numberMatched"], doc["numberReturned"]
    links = [{"href": same_query(request, limit=limit, offset=offset or None), "rel": "self", "type": GEOJSON,
              "title": "this page"},
             {"href": url(request, f"/ogc/collections/{collection_id}"), "rel": "collection", "type": JSON,
              "title": COLLECTIONS[collection_id][0]}]
    if offset + returned < matched:
        links.append({"href": same_query(request, limit=limit, offset=offset + limit), "rel": "next",
                      "type": GEOJSON, "title": "next page"})
    if offset > 0:
        links.append({"href": same_query(request, limit=limit, offset=max(0, offset - limit) or None),
                      "rel": "prev", "type": GEOJSON, "title": "previous page"})
    return {"type": "FeatureCollection", "features": doc["features"], "numberMatched": matched,
            "numberReturned": returned, "timeStamp": _now(), "links": links}


async def item(conn: AsyncConnection, who: Principal, request: Request, collection_id: str, code: str,
               as_of: datetime | None = None) -> dict:
    _known(collection_id)
    doc = await layer_page(conn, who, kind=collection_id, code=code, limit=1, as_of=as_of)
    if not doc["features"]:
        raise NotFound(f"no {collection_id} {code} within your reach", field="code")
    feature = doc["features"][0]
    feature["links"] = [
        {"href": same_query(request), "rel": "self", "type": GEOJSON, "title": "this feature"},
        {"href": url(request, f"/ogc/collections/{collection_id}"), "rel": "collection", "type": JSON,
         "title": COLLECTIONS[collection_id][0]},
    ]
    return feature
