"""Categories as GeoReport v2 services, and the attributes a client app may send with them.

A service is a category (``GET /api/categories``): ``service_code`` its code,
``service_name`` its Chinese name, ``group`` its (first) responsible department. Every
category but ``other`` already says which of the five matters (五事) it is; a report of
``other`` may say so itself with the optional ``five_matters`` attribute, kept in the
case file for the desk. Other attributes are refused, naming the field.
"""

from __future__ import annotations

from psycopg import AsyncConnection

from api.errors import Invalid, NotFound
from api.sqlfiles import sql

FIVE_MATTERS = {  # 五事共治 (seed 003): key -> Chinese name (English)
    "worry": "操心事 (worry)", "annoyance": "烦心事 (annoyance)", "anxiety": "揪心事 (anxiety)",
    "emergency": "急难事 (emergency)", "hope": "期盼事 (hope)",
}
OPEN_CATEGORY = "other"  # the category that does not fix the kind of matter
FIVE_MATTERS_ATTRIBUTE = {
    "variable": True, "code": "five_matters", "datatype": "singlevaluelist", "required": False,
    "datatype_description": "one of the five matters (五事); the desk classifies the report when it is left out",
    "order": 1, "description": "这是哪一类事？ Which of the five matters is it?",
    "values": [{"key": k, "name": v} for k, v in FIVE_MATTERS.items()],
}


def attributes_of(code: str) -> list[dict]:
    return [FIVE_MATTERS_ATTRIBUTE] if code == OPEN_CATEGORY else []


def _service(row: dict) -> dict:
    matter = FIVE_MATTERS.get(row["five_matters"] or "", "")
    departments = row["department_names"]
    return {
        "service_code": row["code"], "service_name": row["name"],
        "description": f"{row['name_en']}; 责任部门 departments: {'、'.join(departments) or '-'}",
        "metadata": bool(attributes_of(row["code"])), "type": "realtime",
        "keywords": ",".join(filter(None, [row["code"], row["name_en"], matter.split(" ")[0]])),
        "group": departments[0] if departments else "",
    }


async def service_list(conn: AsyncConnection) -> list[dict]:
    return [_service(dict(r)) for r in await sql.fetchall(conn, "open311_services", {"code": None})]


async def definition(conn: AsyncConnection, code: str) -> dict:
    """The service definition (its attributes; none for most services); unknown code: 404."""
    if (await sql.fetchone(conn, "open311_services", {"code": code})) is None:
        raise NotFound(f"no service with the code {code!r}", field="service_code")
    return {"service_code": code, "attributes": attributes_of(code)}


def check_attributes(code: str, given: dict[str, str]) -> dict[str, str]:
    """The attributes of a request, checked against the service's definition (400 naming the field)."""
    defined = {a["code"]: a for a in attributes_of(code)}
    for key, value in given.items():
        attribute = defined.get(key)
        if attribute is None:
            known = ", ".join(defined) or "none"
            raise Invalid(f"the service {code!r} has no attribute {key!r} (its attributes: {known})",
                          field=f"attribute[{key}]")
        keys = [v["key"] for v in attribute["values"]]
        if attribute["datatype"] == "singlevaluelist" and value not in keys:
            raise Invalid(f"must be one of: {', '.join(keys)}", field=f"attribute[{key}]")
    missing = [k for k, a in defined.items() if a["required"] and k not in given]
    if missing:
        raise Invalid("required", field=f"attribute[{missing[0]}]")
    return given
