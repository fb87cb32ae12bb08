"""Boundary files: export the area tree as GeoJSON and import one back, refusing a bad file whole.

A file is a FeatureCollection with one Feature per area: geometry = the boundary (Polygon or
MultiPolygon, WGS84 lon/lat) and properties {code, name, level, parent_code, households}, with
level spelled "district" … "microgrid". Import matches areas by code and validates the *final*
state (the database overlaid with the file) before writing anything: every child inside its
parent, no two siblings overlapping, and every parent that has children covered by them.

Re-parenting is refused rather than performed: records in other apps copy an area's `path`
(petitions, residents, houses) and an import cannot rewrite them consistently, so moving an area is
a separate, deliberate operation.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import shapely
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from grids.models import PATH_SEPARATOR, Area, AreaLevel, BoundaryRevision
from grids.services import boundary_revision_bump

LEVEL_NAMES: dict[int, str] = {
    AreaLevel.DISTRICT: "district",
    AreaLevel.STREET: "street",
    AreaLevel.COMMUNITY: "community",
    AreaLevel.GRID: "grid",
    AreaLevel.MICROGRID: "microgrid",
}
LEVELS_BY_NAME: dict[str, int] = {name: level for level, name in LEVEL_NAMES.items()}

# Overlaps, gaps and parts outside the parent smaller than this share of the parent's area are
# floating-point noise from the drawing tool, not mistakes. 1e-9 of a 1 km² grid is 0.001 m².
RELATIVE_AREA_TOLERANCE = 1e-9
# A file with thousands of problems is usually one systematic mistake; the first ones show it.
MAX_PROBLEMS = 100
# Enough for street-level maps; keeps messages readable.
LOCATION_DECIMALS = 6
_METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True)
class Problem:
    """One reason a file was refused. `kind` is stable for scripts; `message` is for people."""

    kind: str
    message: str
    codes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "codes": list(self.codes)}


class BoundaryError(Exception):
    """The file was refused; `problems` lists every reason found (up to MAX_PROBLEMS).

    Shaped like `governance.errors.DomainError` (message, code, extra), which grids cannot import.
    """

    code = "boundary_file_invalid"

    def __init__(self, problems: list[Problem], *, truncated: bool = False):
        self.problems = problems
        self.truncated = truncated
        self.message = _("The boundary file was refused: %(count)s problem(s) found.") % {"count": len(problems)}
        self.extra = {"problems": [problem.as_dict() for problem in problems], "truncated": truncated}
        super().__init__(self.message)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    revision_bumped: bool


@dataclass
class _Feature:
    index: int
    code: str
    name: str
    level: int
    parent_code: str | None
    households: int | None
    boundary: dict
    geometry: BaseGeometry | None = None  # None when the geometry itself was refused


@dataclass
class _Node:
    """An area in the final state: from the file, or from the database when the file lacks it."""

    code: str
    name: str
    level: int
    geometry: BaseGeometry | None
    feature: _Feature | None

    def label(self) -> str:
        if self.feature is not None:
            return _("Feature #%(index)s %(code)s “%(name)s”") % {
                "index": self.feature.index,
                "code": self.code,
                "name": self.name,
            }
        return _("Area %(code)s “%(name)s” (in the database)") % {"code": self.code, "name": self.name}


@dataclass
class _Problems:
    items: list[Problem] = field(default_factory=list)
    truncated: bool = False
    # Codes of features refused for their properties: their children are not blamed again.
    refused_codes: set[str] = field(default_factory=set)

    def add(self, kind: str, message: str, *codes: str) -> None:
        if len(self.items) >= MAX_PROBLEMS:
            self.truncated = True
            return
        self.items.append(Problem(kind=kind, message=message, codes=tuple(codes)))

    def raise_if_any(self) -> None:
        if self.items:
            raise BoundaryError(self.items, truncated=self.truncated)


# --- Export -----------------------------------------------------------------------------------


def boundaries_export(*, root: Area | None = None) -> dict:
    """Every area (or `root` and its subtree) as a FeatureCollection that `boundaries_import` reads.

    Areas without a boundary are exported with a null geometry; such a file is refused on import
    until they are drawn.
    """
    areas = Area.objects.order_by("level", "code")
    if root is not None:
        areas = areas.filter(path__startswith=root.path)
    rows = areas.values_list("code", "name", "level", "parent__code", "households", "boundary")
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": boundary,
                "properties": {
                    "code": code,
                    "name": name,
                    "level": LEVEL_NAMES[level],
                    "parent_code": parent_code,
                    "households": households,
                },
            }
            for code, name, level, parent_code, households, boundary in rows
        ],
    }


# --- Import -----------------------------------------------------------------------------------


def geojson_load(raw: str | bytes) -> dict:
    """Parse a file's text; a broken file is a BoundaryError like any other refusal."""
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BoundaryError(
            [Problem(kind="not_json", message=_("The file is not valid JSON: %(error)s.") % {"error": error})]
        ) from None
    if not isinstance(data, dict):
        raise BoundaryError([Problem(kind="not_feature_collection", message=_("The file is not a FeatureCollection."))])
    return data


@transaction.atomic
def boundaries_import(*, data: dict, actor: str = "", source: str = "") -> ImportResult:
    """Create or update the areas of a FeatureCollection; all or nothing.

    Raises BoundaryError listing every problem found (up to MAX_PROBLEMS) and writes nothing then.
    On success bumps the boundary revision so every process rebuilds its point index.
    """
    # Serialises imports: validation reads the tree that the writes below then change.
    BoundaryRevision.objects.get_or_create(pk=1)
    BoundaryRevision.objects.select_for_update().get(pk=1)

    problems = _Problems()
    features = _parse_features(data, problems)
    existing = _check_tree(features, problems)
    _check_geometry(features, existing, problems)
    problems.raise_if_any()
    return _write(features, existing, actor=actor, source=source)


def _parse_features(data: Any, problems: _Problems) -> dict[str, _Feature]:
    if (
        not isinstance(data, dict)
        or data.get("type") != "FeatureCollection"
        or not isinstance(data.get("features"), list)
    ):
        problems.add("not_feature_collection", _("The file is not a FeatureCollection with a list of features."))
        problems.raise_if_any()

    features: dict[str, _Feature] = {}
    for index, raw in enumerate(data["features"]):
        feature = _parse_feature(index, raw, problems)
        if feature is None:
            continue
        if feature.code in features:
            first = features[feature.code]
            problems.add(
                "duplicate_code",
                _("Feature #%(index)s %(code)s “%(name)s”: the code is used again by feature #%(first)s.")
                % {"index": index, "code": feature.code, "name": feature.name, "first": first.index},
                feature.code,
            )
            continue
        features[feature.code] = feature
    if not features and not problems.items:
        problems.add("empty", _("The file holds no features."))
    return features


def _parse_feature(index: int, raw: Any, problems: _Problems) -> _Feature | None:
    if not isinstance(raw, dict) or raw.get("type") != "Feature":
        problems.add("bad_feature", _("Feature #%(index)s is not a GeoJSON Feature.") % {"index": index})
        return None
    props = raw.get("properties")
    if not isinstance(props, dict):
        problems.add("bad_properties", _("Feature #%(index)s has no properties.") % {"index": index})
        return None
    code, name = props.get("code"), props.get("name")
    label = _("Feature #%(index)s %(code)s “%(name)s”") % {"index": index, "code": code, "name": name}

    def refuse(kind: str, message: str) -> None:
        problems.add(kind, f"{label}: {message}", *([code] if isinstance(code, str) else []))

    ok = True
    max_code = Area._meta.get_field("code").max_length
    if not isinstance(code, str) or not code.strip() or PATH_SEPARATOR in code or len(code) > max_code:
        refuse(
            "bad_code",
            _("the code must be a non-empty text of at most %(max)s characters without “%(sep)s”.")
            % {"max": max_code, "sep": PATH_SEPARATOR},
        )
        ok = False
    max_name = Area._meta.get_field("name").max_length
    if not isinstance(name, str) or not name.strip() or len(name) > max_name:
        refuse("bad_name", _("the name must be a non-empty text of at most %(max)s characters.") % {"max": max_name})
        ok = False
    level = LEVELS_BY_NAME.get(props.get("level")) if isinstance(props.get("level"), str) else None
    if level is None:
        refuse(
            "bad_level",
            _("unknown level %(level)r; use one of %(levels)s.")
            % {"level": props.get("level"), "levels": ", ".join(LEVEL_NAMES.values())},
        )
        ok = False
    parent_code = props.get("parent_code")
    if parent_code is not None and not isinstance(parent_code, str):
        refuse("bad_parent", _("parent_code must be a text or null."))
        ok = False
    if level == AreaLevel.DISTRICT and parent_code:
        refuse("bad_parent", _("a district has no parent."))
        ok = False
    elif level is not None and level != AreaLevel.DISTRICT and not parent_code:
        refuse("bad_parent", _("a %(level)s needs a parent_code.") % {"level": LEVEL_NAMES[level]})
        ok = False
    households = props.get("households")
    if households is not None:
        if isinstance(households, bool) or not isinstance(households, int) or households < 0:
            refuse("bad_households", _("households must be a whole number ≥ 0 or null."))
            ok = False
        elif level is not None and level != AreaLevel.MICROGRID:
            refuse("bad_households", _("only micro-grids record households."))
            ok = False

    boundary = raw.get("geometry")
    geometry = _parse_geometry(boundary, refuse)
    if not ok:
        if isinstance(code, str):
            problems.refused_codes.add(code)
        return None
    return _Feature(
        index=index,
        code=code,
        name=name,
        level=level,
        parent_code=parent_code or None,
        households=households,
        boundary=boundary,
        geometry=geometry,
    )


def _parse_geometry(boundary: Any, refuse) -> BaseGeometry | None:
    if not isinstance(boundary, dict) or boundary.get("type") not in ("Polygon", "MultiPolygon"):
        kind = boundary.get("type") if isinstance(boundary, dict) else boundary
        refuse("bad_geometry", _("the geometry must be a Polygon or MultiPolygon, not %(kind)r.") % {"kind": kind})
        return None
    try:
        geometry = shape(boundary)
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, shapely.errors.ShapelyError) as error:
        refuse("bad_geometry", _("the coordinates cannot be read: %(error)s.") % {"error": error})
        return None
    if geometry.is_empty:
        refuse("bad_geometry", _("the geometry is empty."))
        return None
    min_x, min_y, max_x, max_y = geometry.bounds
    if not (-180 <= min_x <= max_x <= 180 and -90 <= min_y <= max_y <= 90):
        refuse("bad_geometry", _("coordinates must be longitude, latitude in WGS84 degrees."))
        return None
    if not geometry.is_valid:
        refuse(
            "invalid_polygon",
            _("the polygon is not valid: %(reason)s.") % {"reason": shapely.is_valid_reason(geometry)},
        )
        return None
    return geometry


def _check_tree(features: dict[str, _Feature], problems: _Problems) -> dict[str, Area]:
    """Parents, levels and moves against the file and the database; returns the areas that exist."""
    wanted = set(features) | {f.parent_code for f in features.values() if f.parent_code}
    existing = {area.code: area for area in Area.objects.filter(code__in=wanted).select_related("parent")}
    for feature in features.values():
        label = _("Feature #%(index)s %(code)s “%(name)s”") % {
            "index": feature.index,
            "code": feature.code,
            "name": feature.name,
        }
        current = existing.get(feature.code)
        if current is not None and current.level != feature.level:
            problems.add(
                "level_changed",
                _("%(label)s: the area exists as a %(old)s; its level cannot change to %(new)s.")
                % {"label": label, "old": LEVEL_NAMES[current.level], "new": LEVEL_NAMES[feature.level]},
                feature.code,
            )
            continue
        current_parent = current.parent.code if current is not None and current.parent else None
        if current is not None and current_parent != feature.parent_code:
            problems.add(
                "reparent_refused",
                _(
                    "%(label)s: moving the area from parent %(old)s to %(new)s is refused; "
                    "records elsewhere copy its path, so moves are done one at a time, not by import."
                )
                % {"label": label, "old": current_parent, "new": feature.parent_code},
                feature.code,
            )
            continue
        if feature.parent_code is None:
            continue
        parent_level = (
            features[feature.parent_code].level
            if feature.parent_code in features
            else existing[feature.parent_code].level
            if feature.parent_code in existing
            else None
        )
        if parent_level is None and feature.parent_code in problems.refused_codes:
            continue
        if parent_level is None:
            problems.add(
                "unknown_parent",
                _("%(label)s: the parent %(parent)s is neither in the file nor in the database.")
                % {"label": label, "parent": feature.parent_code},
                feature.code,
            )
        elif parent_level != feature.level - 1:
            problems.add(
                "bad_level",
                _("%(label)s: a %(level)s must sit under a %(expected)s, but %(parent)s is a %(actual)s.")
                % {
                    "label": label,
                    "level": LEVEL_NAMES[feature.level],
                    "expected": LEVEL_NAMES.get(feature.level - 1),
                    "parent": feature.parent_code,
                    "actual": LEVEL_NAMES[parent_level],
                },
                feature.code,
            )
        elif len(_path_of(feature.code, features, existing)) > Area._meta.get_field("path").max_length:
            problems.add("path_too_long", _("%(label)s: the codes of its ancestors are too long.") % {"label": label})
    return existing


def _path_of(code: str, features: dict[str, _Feature], existing: dict[str, Area]) -> str:
    """The path the area will have; only called once the parent is known to exist."""
    feature = features.get(code)
    if feature is None:
        return existing[code].path
    if feature.parent_code is None:
        return Area.build_path(None, code)
    if feature.parent_code not in features and feature.parent_code not in existing:
        return Area.build_path(None, code)
    return Area.build_path(_path_of(feature.parent_code, features, existing), code)


def _check_geometry(features: dict[str, _Feature], existing: dict[str, Area], problems: _Problems) -> None:
    """Containment, sibling overlaps and coverage for every parent whose family the file touches."""
    parents = {f.parent_code for f in features.values() if f.parent_code} | set(features)
    nodes: dict[str, _Node] = {}
    for code in parents:
        if code in features:
            f = features[code]
            nodes[code] = _Node(code, f.name, f.level, f.geometry, f)
        elif code in existing:
            area = existing[code]
            nodes[code] = _Node(code, area.name, area.level, _db_geometry(area.boundary), None)

    children: dict[str, dict[str, _Node]] = defaultdict(dict)
    db_children = (
        Area.objects.filter(parent__code__in=list(nodes))
        .exclude(code__in=list(features))
        .values_list("code", "name", "level", "parent__code", "boundary")
    )
    for code, name, level, parent_code, boundary in db_children:
        children[parent_code][code] = _Node(code, name, level, _db_geometry(boundary), None)
    for f in features.values():
        if f.parent_code in nodes:
            children[f.parent_code][f.code] = _Node(f.code, f.name, f.level, f.geometry, f)

    for parent_code in sorted(children, key=lambda code: (nodes[code].level, code)):
        parent = nodes[parent_code]
        family = sorted(children[parent_code].values(), key=lambda node: node.code)
        if parent.geometry is None or not family:
            continue
        _check_family(parent, family, problems)


def _db_geometry(boundary: dict | None) -> BaseGeometry | None:
    # Stored boundaries passed validation when they were imported; an unreadable one only skips checks.
    if not boundary:
        return None
    try:
        geometry = shape(boundary)
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, shapely.errors.ShapelyError):
        return None
    return geometry if geometry.is_valid and not geometry.is_empty else None


def _check_family(parent: _Node, family: list[_Node], problems: _Problems) -> None:
    tolerance = RELATIVE_AREA_TOLERANCE * parent.geometry.area
    shapely.prepare(parent.geometry)
    drawn = [child for child in family if child.geometry is not None]

    for child in drawn:
        if parent.geometry.covers(child.geometry):
            continue
        outside = child.geometry.difference(parent.geometry)
        if outside.area > tolerance:
            problems.add(
                "outside_parent",
                _("%(child)s lies partly outside its parent %(parent)s: %(area)s outside, around %(point)s.")
                % {
                    "child": child.label(),
                    "parent": parent.label(),
                    "area": _area_text(outside),
                    "point": _point_text(outside),
                },
                child.code,
                parent.code,
            )

    # An STRtree keeps this near-linear for a grid with dozens of micro-grids; touching neighbours
    # "intersect" with zero area, so only a real shared area counts.
    tree = STRtree([child.geometry for child in drawn])
    left, right = tree.query([child.geometry for child in drawn], predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        shared = drawn[i].geometry.intersection(drawn[j].geometry)
        if shared.area > tolerance:
            problems.add(
                "overlap",
                _("%(first)s and %(second)s overlap by %(area)s around %(point)s.")
                % {
                    "first": drawn[i].label(),
                    "second": drawn[j].label(),
                    "area": _area_text(shared),
                    "point": _point_text(shared),
                },
                drawn[i].code,
                drawn[j].code,
            )

    # Coverage only makes sense when every child is drawn: a missing boundary is a known gap.
    if len(drawn) != len(family):
        return
    gap = parent.geometry.difference(shapely.union_all([child.geometry for child in drawn]))
    if gap.area > tolerance:
        problems.add(
            "gap",
            _("%(parent)s is not covered by its children: a gap of %(area)s around %(point)s.")
            % {"parent": parent.label(), "area": _area_text(gap), "point": _point_text(gap)},
            parent.code,
        )


def _area_text(geometry: BaseGeometry) -> str:
    # Degrees² mean nothing to a grid worker; this approximation is good to a few percent at city scale.
    latitude = geometry.centroid.y
    square_metres = geometry.area * _METRES_PER_DEGREE**2 * math.cos(math.radians(latitude))
    return _("about %(area)s m²") % {"area": f"{square_metres:,.1f}"}


def _point_text(geometry: BaseGeometry) -> str:
    # The largest piece says where to look; representative_point lies inside it, unlike a centroid.
    pieces = getattr(geometry, "geoms", [geometry])
    largest = max(pieces, key=lambda piece: piece.area)
    point = largest.representative_point()
    return _("lon %(lon)s, lat %(lat)s") % {
        "lon": round(point.x, LOCATION_DECIMALS),
        "lat": round(point.y, LOCATION_DECIMALS),
    }


def _write(features: dict[str, _Feature], existing: dict[str, Area], *, actor: str, source: str) -> ImportResult:
    now = timezone.now()
    created = updated = unchanged = 0
    created_codes: list[str] = []
    updated_codes: list[str] = []
    by_code = dict(existing)
    for level in sorted(LEVEL_NAMES):
        to_create: list[Area] = []
        to_update: list[Area] = []
        for feature in sorted((f for f in features.values() if f.level == level), key=lambda f: f.code):
            boundary = mapping(feature.geometry) if feature.geometry is not None else feature.boundary
            boundary = json.loads(json.dumps(boundary))  # tuples → lists, as the JSONField will return it
            households = feature.households if level == AreaLevel.MICROGRID else None
            area = by_code.get(feature.code)
            if area is None:
                parent = by_code.get(feature.parent_code) if feature.parent_code else None
                to_create.append(
                    Area(
                        code=feature.code,
                        name=feature.name,
                        level=level,
                        parent=parent,
                        path=Area.build_path(parent.path if parent else None, feature.code),
                        boundary=boundary,
                        households=households,
                    )
                )
            elif (area.name, area.boundary, area.households) != (feature.name, boundary, households):
                area.name, area.boundary, area.households, area.updated_at = feature.name, boundary, households, now
                to_update.append(area)
            else:
                unchanged += 1
        if to_create:
            Area.objects.bulk_create(to_create, batch_size=500)
            # Not every backend returns primary keys from a bulk insert; the next level needs them.
            by_code.update(Area.objects.in_bulk([area.code for area in to_create], field_name="code"))
        if to_update:
            Area.objects.bulk_update(to_update, ["name", "boundary", "households", "updated_at"], batch_size=500)
        created += len(to_create)
        updated += len(to_update)
        created_codes += [area.code for area in to_create]
        updated_codes += [area.code for area in to_update]
    bumped = bool(created or updated)
    if bumped:
        boundary_revision_bump(actor=actor or "system", source=source, created=created_codes, updated=updated_codes)
    return ImportResult(created=created, updated=updated, unchanged=unchanged, revision_bumped=bumped)
