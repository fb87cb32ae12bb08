"""Point → micro-grid lookup through a bucket grid over prepared shapely polygons.

The index is built once per process from every micro-grid boundary and rebuilt when the
`BoundaryRevision` row moves (checked at most every SPATIAL_INDEX_CHECK_SECONDS; the process that
changes boundaries rebuilds at once). A point on a shared edge or vertex belongs to exactly one
micro-grid: the one with the smallest code among those whose closed polygon covers it.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import numpy as np
import shapely
from django.conf import settings
from shapely.geometry import shape

from grids.models import Area, AreaLevel, BoundaryRevision

# Buckets per micro-grid: about 2 keeps the candidates of a lookup to one or two.
BUCKETS_PER_MICROGRID = 2


@dataclass(frozen=True)
class Located:
    area_id: int
    code: str
    path: str


class MicrogridIndex:
    """An immutable index over one snapshot of the micro-grid boundaries.

    A uniform grid of buckets over the micro-grids' extent, each holding the micro-grids whose
    bounding box reaches it. A lookup is arithmetic to find the bucket, a bounding-box test per
    candidate in plain Python, then one exact `intersects_xy` (closed polygon, so a boundary point
    counts) on a prepared geometry. This avoids building a shapely Point and an STRtree query per
    call, which cost ~6 µs of the ~8 µs a lookup took (bench/point_lookup.py).
    """

    def __init__(self, rows: list[tuple[int, str, str, dict]], revision: int):
        # Sorted by code, and every bucket keeps that order, so the first covering candidate is
        # the tie-break winner.
        rows = sorted(rows, key=lambda row: row[1])
        self.revision = revision
        self._areas = [Located(area_id=pk, code=code, path=path) for pk, code, path, _geo in rows]
        self._geometries = [shape(geo) for _pk, _code, _path, geo in rows]
        for geometry in self._geometries:
            shapely.prepare(geometry)
        self._bounds = [tuple(b) for b in shapely.bounds(self._geometries).tolist()] if rows else []
        self._buckets: dict[tuple[int, int], tuple[int, ...]] = {}
        if not rows:
            self._extent = (math.inf, math.inf, -math.inf, -math.inf)
            return
        bounds = np.asarray(self._bounds)
        min_x, min_y = bounds[:, 0].min(), bounds[:, 1].min()
        max_x, max_y = bounds[:, 2].max(), bounds[:, 3].max()
        self._extent = (float(min_x), float(min_y), float(max_x), float(max_y))
        # About BUCKETS_PER_MICROGRID buckets per micro-grid, shaped like the extent.
        width, height = max(max_x - min_x, 1e-12), max(max_y - min_y, 1e-12)
        cells = BUCKETS_PER_MICROGRID * len(rows)
        self._nx = max(1, round(math.sqrt(cells * width / height)))
        self._ny = max(1, round(cells / self._nx))
        self._scale_x, self._scale_y = self._nx / width, self._ny / height
        buckets: dict[tuple[int, int], list[int]] = {}
        for position, (x0, y0, x1, y1) in enumerate(self._bounds):
            # The same monotonic _cell() maps bounds and points, so a box covering a point always
            # reaches that point's bucket, edges included.
            for ix in range(self._cell_x(x0), self._cell_x(x1) + 1):
                for iy in range(self._cell_y(y0), self._cell_y(y1) + 1):
                    buckets.setdefault((ix, iy), []).append(position)
        self._buckets = {key: tuple(positions) for key, positions in buckets.items()}

    def _cell_x(self, x: float) -> int:
        return min(self._nx - 1, max(0, math.floor((x - self._extent[0]) * self._scale_x)))

    def _cell_y(self, y: float) -> int:
        return min(self._ny - 1, max(0, math.floor((y - self._extent[1]) * self._scale_y)))

    def __len__(self) -> int:
        return len(self._areas)

    def locate(self, lon: float, lat: float) -> Located | None:
        min_x, min_y, max_x, max_y = self._extent
        if not (min_x <= lon <= max_x and min_y <= lat <= max_y):
            return None
        for position in self._buckets.get((self._cell_x(lon), self._cell_y(lat)), ()):
            x0, y0, x1, y1 = self._bounds[position]
            if x0 <= lon <= x1 and y0 <= lat <= y1 and shapely.intersects_xy(self._geometries[position], lon, lat):
                return self._areas[position]
        return None


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
