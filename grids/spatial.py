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

# Buckets per micro-grid: with 8, most lookups land in a bucket that lies wholly inside one
# micro-grid (answered without a geometry test) and the others have one to three candidates.
BUCKETS_PER_MICROGRID = 8
# A bucket's box is grown by this much (degrees, ~0.1 mm) before it is compared with the polygons,
# so a point that rounding puts in the bucket from just outside its exact box is still covered.
BUCKET_SLACK = 1e-9


@dataclass(frozen=True)
class Located:
    area_id: int
    code: str
    path: str


class MicrogridIndex:
    """An immutable index over one snapshot of the micro-grid boundaries.

    A uniform grid of buckets over the micro-grids' extent. A bucket whose (slightly grown) box
    lies in the interior of one micro-grid and touches no other is *pure*: every point in it
    belongs to that micro-grid, and a lookup there is arithmetic and one list read. Any other
    bucket holds the micro-grids whose bounding box reaches it, in code order: a bounding-box test
    per candidate in plain Python, then one exact `intersects_xy` (closed polygon, so a boundary
    point counts) on a prepared geometry; the first hit wins (the tie rule).
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
        # One entry per bucket (ix * ny + iy): None (empty), a Located (pure) or candidate positions.
        self._cells: list[Located | tuple[int, ...] | None] = []
        self.pure_buckets = 0
        if not rows:
            self._extent = (math.inf, math.inf, -math.inf, -math.inf)
            self._nx = self._ny = 1
            self._scale_x = self._scale_y = 1.0
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
        buckets: dict[int, list[int]] = {}
        for position, (x0, y0, x1, y1) in enumerate(self._bounds):
            # The same monotonic _cell() maps bounds and points, so a box covering a point always
            # reaches that point's bucket, edges included.
            for ix in range(self._cell_x(x0), self._cell_x(x1) + 1):
                for iy in range(self._cell_y(y0), self._cell_y(y1) + 1):
                    buckets.setdefault(ix * self._ny + iy, []).append(position)
        self._cells = [None] * (self._nx * self._ny)
        for key, positions in buckets.items():
            self._cells[key] = tuple(positions)
        self._mark_pure(buckets)

    def _mark_pure(self, buckets: dict[int, list[int]]) -> None:
        """Replace each pure bucket's candidates by its one micro-grid (vectorised predicates)."""
        keys = list(buckets)
        ix = np.array([key // self._ny for key in keys], dtype=float)
        iy = np.array([key % self._ny for key in keys], dtype=float)
        x0, y0 = self._extent[0], self._extent[1]
        boxes = shapely.box(
            x0 + ix / self._scale_x - BUCKET_SLACK,
            y0 + iy / self._scale_y - BUCKET_SLACK,
            x0 + (ix + 1) / self._scale_x + BUCKET_SLACK,
            y0 + (iy + 1) / self._scale_y + BUCKET_SLACK,
        )
        pair_bucket = np.array([i for i, key in enumerate(keys) for _ in buckets[key]], dtype=np.intp)
        pair_geometry = np.array([p for key in keys for p in buckets[key]], dtype=np.intp)
        geometries = np.array(self._geometries, dtype=object)
        inside = shapely.contains_properly(geometries[pair_geometry], boxes[pair_bucket])
        touches = shapely.intersects(geometries[pair_geometry], boxes[pair_bucket])
        start = 0
        for key in keys:
            count = len(buckets[key])
            holders = [buckets[key][j] for j in range(count) if inside[start + j]]
            touching = int(touches[start : start + count].sum())
            if len(holders) == 1 and touching == 1:
                self._cells[key] = self._areas[holders[0]]
                self.pure_buckets += 1
            start += count

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
        # _cell_x/_cell_y inlined (both offsets are ≥ 0 here, so int() is floor()).
        ix = int((lon - min_x) * self._scale_x)
        iy = int((lat - min_y) * self._scale_y)
        entry = self._cells[
            (ix if ix < self._nx else self._nx - 1) * self._ny + (iy if iy < self._ny else self._ny - 1)
        ]
        if entry is None or type(entry) is Located:
            return entry
        bounds = self._bounds
        for position in entry:
            x0, y0, x1, y1 = bounds[position]
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
