"""GeoJSON responses: ``application/geo+json``, documented as such in /openapi.json.

Large documents built in SQL (``json_build_object``) are returned as they are; the route
still declares its ``response_model`` so the OpenAPI document (and schemathesis) knows
their shape.
"""

from fastapi.responses import JSONResponse

GEOJSON_CONTENT = {200: {"content": {"application/geo+json": {}}}}


class GeoJSONResponse(JSONResponse):
    media_type = "application/geo+json"
