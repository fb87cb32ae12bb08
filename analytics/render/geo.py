"""The risk map's GeoJSON: our own grid polygons, coloured by the risk the frozen figures give them.

Polygons come from `grids.Area.boundary` (no tile server); each feature carries the figures of its
grid from `hotspots.grids` (or `hotspots.microgrids` on a grid's own report, whose map shows its
micro-grids). A grid without petitions that month has no risk (null), not a risk of 0.
"""

from __future__ import annotations

from collections.abc import Callable

from grids.models import Area, AreaLevel

# Five classes from calm to alarming; static/js/report_map.js holds the same thresholds' colours.
RISK_CLASSES = (0.2, 0.4, 0.6, 0.8)


def risk_class(risk: float | None) -> int | None:
    if risk is None:
        return None
    return sum(risk >= threshold for threshold in RISK_CLASSES)


def map_level(area: Area) -> int:
    """The level drawn on an area's map: grids, or micro-grids once the area is a grid itself."""
    return AreaLevel.MICROGRID if area.level >= AreaLevel.GRID else AreaLevel.GRID


def risk_geojson(figures: dict, area: Area, *, link: Callable[[str], str | None] = lambda code: None) -> dict:
    """A FeatureCollection of the area's grids (or micro-grids) with their risk, plus the area's outline."""
    level = map_level(area)
    hotspots = figures.get("hotspots") or {}
    ranked = hotspots.get("microgrids" if level == AreaLevel.MICROGRID else "grids") or []
    by_code = {(item.get("unit") or {}).get("code"): item for item in ranked}
    areas = (
        Area.objects.filter(path__startswith=area.path, level=level)
        .exclude(boundary__isnull=True)
        .only("code", "name", "boundary")
        .order_by("code")
    )
    features = []
    for unit in areas:
        item = by_code.get(unit.code) or {}
        risk = item.get("risk")
        features.append(
            {
                "type": "Feature",
                "geometry": unit.boundary,
                "properties": {
                    "code": unit.code,
                    "name": unit.name,
                    "risk": risk,
                    "risk_class": risk_class(risk),
                    "rank": item.get("rank"),
                    "petitions": item.get("petitions", 0),
                    "repeats": item.get("repeats", 0),
                    "per_1000": item.get("per_1000"),
                    "url": link(unit.code),
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "outline": area.boundary,
        "clusters": hotspots.get("clusters") or [],
    }
