"""Shapely results as GeoJSON features (coordinates on the 7-decimal grid the areas use)."""

from __future__ import annotations

import numpy as np
import shapely


def geojson(geom) -> dict | None:
    if geom is None or geom.is_empty:
        return None
    return shapely.geometry.mapping(shapely.transform(geom, lambda c: np.round(c, 7)))


def feature(fid: str, geom, properties: dict) -> dict:
    return {"type": "Feature", "id": fid, "geometry": geojson(geom), "properties": properties}


def collection(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "numberReturned": len(features), "features": features}


def violation_features(found: list[dict]) -> list[dict]:
    """Violations (spatial.partition.validate) as features: geometry = where."""
    return [feature(f"{v['reason']}-{i + 1}", v["geometry"],
                    {"reason": v["reason"], "detail": v["detail"], "codes": list(v["codes"])})
            for i, v in enumerate(found)]
