"""Point → micro-grid lookup through a shapely STRtree.

The index is built once per process from every micro-grid boundary and rebuilt when the
`BoundaryRevision` row moves (checked at most every SPATIAL_INDEX_CHECK_SECONDS; the process that
changes boundaries rebuilds at once). A point on a shared edge or vertex belongs to exactly one
micro-grid: the one with the smallest code among those whose closed polygon covers it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import shapely
from django.conf import settings
from shapely.geometry import shape
from shapely.strtree import STRtree

from grids.models import Area, AreaLevel, BoundaryRevision


@dataclass(frozen=True)
class Located:
    area_id: int
    code: str
    path: str


class MicrogridIndex:
    """An immutable index over one snapshot of the micro-grid boundaries."""

    def __init__(self, rows: list[tuple[int, str, str, dict]], revision: int):
        # Sorted by code so that the first covering candidate is the tie-break winner.
        rows = sorted(rows, key=lambda row: row[1])
        self.revision = revision
        self._areas = [Located(area_id=pk, code=code, path=path) for pk, code, path, _geo in rows]
        geometries = [shape(geo) for _pk, _code, _path, geo in rows]
        for geometry in geometries:
            shapely.prepare(geometry)
        self._geometries = np.array(geometries, dtype=object)
        self._tree = STRtree(self._geometries)

    def __len__(self) -> int:
        return len(self._areas)

    def locate(self, lon: float, lat: float) -> Located | None:
        point = shapely.Point(lon, lat)
        hits = self._tree.query(point, predicate="intersects")
        if len(hits) == 0:
            return None
        return self._areas[int(hits.min())]


_lock = threading.Lock()
_index: MicrogridIndex | None = None
_checked_at = 0.0


def _current_revision() -> int:
    row = BoundaryRevision.objects.filter(pk=1).values_list("revision", flat=True).first()
    return row or 0


def build_index() -> MicrogridIndex:
    revision = _current_revision()
    rows = list(
        Area.objects.filter(level=AreaLevel.MICROGRID, boundary__isnull=False).values_list(
            "pk", "code", "path", "boundary"
        )
    )
    return MicrogridIndex(rows, revision)


def get_index() -> MicrogridIndex:
    """This process's index, rebuilt if boundaries changed since it was built."""
    global _index, _checked_at
    now = time.monotonic()
    index = _index
    if index is not None and now - _checked_at < settings.SPATIAL_INDEX_CHECK_SECONDS:
        return index
    with _lock:
        if _index is None or _current_revision() != _index.revision:
            _index = build_index()
        _checked_at = time.monotonic()
        return _index


def invalidate_index() -> None:
    """Forget this process's index (called after this process changed boundaries)."""
    global _index
    with _lock:
        _index = None


def microgrid_at(lon: float, lat: float) -> Located | None:
    """The micro-grid containing the point (longitude, latitude), or None outside the district."""
    return get_index().locate(lon, lat)
