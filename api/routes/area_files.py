"""Area layers as files: import (dry run or apply) and export, for the editor page and scripts."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from api.areas import files
from api.areas.file_models import ImportReport
from api.auth.deps import AreaEditor, MapReader
from api.db import ConnDep
from api.errors import Invalid, TooLarge
from api.params import parse_time
from spatial.io import FORMATS
from spatial.io.formats import save_upload

router = APIRouter(prefix="/api/areas", tags=["area files"])

ImportLayer = Literal["street", "community", "grid", "zone", "patrol_zone"]
ExportLayer = Literal["district", "street", "community", "grid", "zone", "patrol_zone"]
ExportFormat = Literal["gpkg", "geojson", "shp", "kml"]
FILE_CONTENT = {200: {"content": {f.media_type: {"schema": {"type": "object"} if f.key == "geojson" else
                                                 {"type": "string", "format": "binary"}}
                                  for f in FORMATS.values()}, "description": "the layer file"}}


@router.post("/import", response_model=ImportReport)
async def import_layer(
    who: AreaEditor, conn: ConnDep,
    layer: ImportLayer = Query(description="the kind of the areas in the file"),
    parent: str = Query(max_length=32, description="the area the file's areas lie under"),
    dry_run: bool = Query(True, description="only report (default); false saves every change at once"),
    crs: str | None = Query(None, max_length=40, description="gcj02 or bd09 when the file's lon/lat are in that "
                                                             "China datum; EPSG:<code> when the file declares none"),
    retire_missing: bool = Query(False, description="retire the areas under the parent that the file lacks"),
    reason: str | None = Query(None, max_length=500, description="the note kept with the new versions"),
    file: UploadFile = File(description=f"GeoJSON, GeoPackage, zipped Shapefile or KML, at most "
                                        f"{files.MAX_IMPORT_BYTES // 1_000_000} MB"),
    snap_tolerance_m: float = Form(files.SNAP_TOLERANCE_M,
                                   description=f"overhangs and gaps along the parent's outline no wider than this "
                                               f"(metres, 0 to {files.MAX_SNAP_TOLERANCE_M:g}; 0: none) are fixed "
                                               f"and listed in the report"),
):
    """Check a layer file feature by feature (each problem with its row) and, with dry_run=false,
    save it as new versions in one transaction: all or nothing."""
    data = await file.read(files.MAX_IMPORT_BYTES + 1)
    if len(data) > files.MAX_IMPORT_BYTES:
        raise TooLarge(f"a layer file may be at most {files.MAX_IMPORT_BYTES // 1_000_000} MB", field="file")
    if not data:
        raise Invalid("the file is empty", field="file")
    with tempfile.TemporaryDirectory(prefix="gridgov-import-") as tmp:
        path = save_upload(data, Path(tmp), file.filename)
        return await files.import_layer(conn, who, path=path, filename=file.filename, layer=layer, parent=parent,
                                        dry_run=dry_run, source_crs=crs, reason=reason,
                                        retire_missing=retire_missing, snap_tolerance_m=snap_tolerance_m)


@router.get("/export", response_class=Response, responses=FILE_CONTENT)
async def export_layer(
    request: Request, who: MapReader, conn: ConnDep,
    layer: ExportLayer = Query(description="the kind of areas to export"),
    parent: str | None = Query(None, max_length=32, description="only the areas under this one"),
    format: ExportFormat = Query("gpkg", description="gpkg, geojson, shp (zipped) or kml"),
    as_of: datetime | None = Query(None, description="the boundaries as they were then (ISO-8601)"),
):
    """The areas of one kind in the caller's scope, current or as of a past time, as a file."""
    when = parse_time(as_of, request.app.state.settings.timezone, "as_of")
    content, name = await files.export_layer(conn, who, layer=layer, parent=parent, fmt=format, as_of=when)
    return Response(content, media_type=FORMATS[format].media_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
