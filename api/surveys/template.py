"""Survey templates: dimensions × indicators with Chinese and English names, as a JSON file.

A template is stored once under its code and never changed (answers refer to its indicators):
a new version of the questions is a new file with a code of its own. The default is
``gulou_4x17.json`` (seed 004)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from psycopg import AsyncConnection

from api.errors import Conflict, NotFound
from api.sqlfiles import sql

DEFAULT_FILE = "gulou_4x17.json"


@dataclass(frozen=True)
class Template:
    code: str
    document: dict[str, Any]

    @property
    def dimensions(self) -> list[dict[str, Any]]:
        return self.document["dimensions"]

    @property
    def dimension_of(self) -> dict[str, str]:
        """indicator code -> dimension code."""
        return {i["code"]: d["code"] for d in self.dimensions for i in d["indicators"]}

    @property
    def indicators(self) -> dict[str, dict[str, Any]]:
        return {i["code"]: i for d in self.dimensions for i in d["indicators"]}

    @property
    def scale(self) -> tuple[int, int]:
        s = self.document.get("scale") or {}
        return int(s.get("min", 1)), int(s.get("max", 5))


@cache
def default_document() -> dict[str, Any]:
    return json.loads(resources.files("api.surveys").joinpath(DEFAULT_FILE).read_text(encoding="utf-8"))


async def ensure_default(conn: AsyncConnection) -> str:
    """Store the default template if it is not yet stored; its code. A stored template of the same
    code with other content is refused: templates never change under answers."""
    doc = default_document()
    params = {"code": doc["code"], "name": doc["name"], "name_en": doc["name_en"],
              "document": json.dumps(doc, ensure_ascii=False)}
    await sql.execute(conn, "survey_template_insert", params)
    stored = await sql.fetchone(conn, "survey_template_get", {"code": doc["code"]})
    if stored is None or stored["document"] != doc:
        raise Conflict(f"template {doc['code']} is stored with other questions: give the changed file a new code",
                       field="template")
    return doc["code"]


async def load(conn: AsyncConnection, code: str) -> Template:
    row = await sql.fetchone(conn, "survey_template_get", {"code": code})
    if row is None:
        raise NotFound(f"no survey template {code}", field="template")
    return Template(code=row["code"], document=row["document"])
