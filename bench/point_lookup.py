"""Point → micro-grid lookup: grids.spatial.MicrogridIndex against a brute-force scan.

    .venv/bin/python bench/point_lookup.py [--seed N] [--points N] [--synthetic]

Builds the demo district's 7,082 micro-grids (grids.demo.generate_areas, or with --synthetic a
plain 7,082-cell rectangle grid), draws the same seeded points for both methods — most inside,
about a third outside the district, and some exactly on shared vertices where the tie rule
(smallest code wins) decides — and prints µs per lookup, the speed-up and any disagreement.
No database is touched. Exits 1 if the two methods disagree on any point or the index misses
its targets (SPEED_UP_TARGET, MICROSECONDS_TARGET).

The brute force is a fair baseline: prepared geometries (shapely.prepare), scanned in code order
and stopped at the first polygon that covers the point, which is exactly the documented tie rule.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

import django

django.setup()

import shapely  # noqa: E402
from shapely.geometry import shape  # noqa: E402

from bench.common import Goals, load_line  # noqa: E402
from grids.models import Area, AreaLevel  # noqa: E402
from grids.spatial import MicrogridIndex  # noqa: E402

MICROGRIDS = 7082
SPEED_UP_TARGET = 100
MICROSECONDS_TARGET = 100
# Points drawn in the district's box grown by this share on every side: about a third land outside.
MARGIN = 0.1
# Share of points placed exactly on a micro-grid corner, where 2-4 micro-grids tie.
VERTEX_SHARE = 0.05
# Both methods are timed over this many passes and the median pass kept (the same statistic for both).
PASSES = 3

Row = tuple[int, str, str, dict]


def demo_rows(seed: int) -> list[Row]:
    from grids.demo import generate_areas

    specs = generate_areas(seed=seed, scale=1.0)
    paths: dict[str, str] = {}
    rows: list[Row] = []
    for spec in specs:  # parents come before children
        paths[spec.code] = Area.build_path(paths.get(spec.parent_code), spec.code)
        if spec.level == AreaLevel.MICROGRID:
            rows.append((len(rows) + 1, spec.code, paths[spec.code], spec.boundary))
    return rows


def synthetic_rows() -> list[Row]:
    """7,082 = 2 × 3,541 cells would be a strip; use 73 × 97 = 7,081 plus one split cell."""
    columns, rows_count = 73, 97
    x0, y0, width, height = 120.33, 36.06, 0.10, 0.07
    dx, dy = width / columns, height / rows_count
    rows: list[Row] = []

    def add(code: str, a: float, b: float, c: float, d: float) -> None:
        ring = [[a, b], [c, b], [c, d], [a, d], [a, b]]
        rows.append((len(rows) + 1, code, f"S/{code}/", {"type": "Polygon", "coordinates": [ring]}))

    for i in range(columns):
        for j in range(rows_count):
            a, b, c, d = x0 + i * dx, y0 + j * dy, x0 + (i + 1) * dx, y0 + (j + 1) * dy
            if i == 0 and j == 0:
                mid = x0 + dx / 2
                add("S000000a", a, b, mid, d)
                add("S000000b", mid, b, c, d)
            else:
                add(f"S{i:03d}{j:03d}", a, b, c, d)
    return rows


def draw_points(rows: list[Row], count: int, seed: int) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    bounds = shapely.MultiPolygon([shape(row[3]) for row in rows]).bounds
    min_x, min_y, max_x, max_y = bounds
    grow_x, grow_y = (max_x - min_x) * MARGIN, (max_y - min_y) * MARGIN
    points = []
    for _ in range(count):
        if rng.random() < VERTEX_SHARE:
            ring = rng.choice(rows)[3]["coordinates"][0]
            points.append(tuple(rng.choice(ring)))
        else:
            points.append((rng.uniform(min_x - grow_x, max_x + grow_x), rng.uniform(min_y - grow_y, max_y + grow_y)))
    return points


def per_lookup_us(locate, points: list[tuple[float, float]]) -> float:
    """Median over PASSES passes of the mean time per lookup, in µs."""
    passes = []
    for _ in range(PASSES):
        started = time.perf_counter()
        for lon, lat in points:
            locate(lon, lat)
        passes.append((time.perf_counter() - started) / max(1, len(points)) * 1e6)
    return statistics.median(passes)


def brute_force(rows: list[Row]):
    ordered = sorted(rows, key=lambda row: row[1])  # code order: the first hit is the tie winner
    geometries = [shape(row[3]) for row in ordered]
    for geometry in geometries:
        shapely.prepare(geometry)
    codes = [row[1] for row in ordered]

    def locate(lon: float, lat: float) -> str | None:
        point = shapely.Point(lon, lat)
        for code, geometry in zip(codes, geometries, strict=True):
            if geometry.covers(point):
                return code
        return None

    return locate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=2024, help="seed of the demo district and of the points")
    parser.add_argument("--points", type=int, default=2000, help="random points, the same for both methods")
    parser.add_argument("--synthetic", action="store_true", help="a plain rectangle grid instead of grids.demo")
    args = parser.parse_args()

    print(f"load:     {load_line()}")
    started = time.perf_counter()
    rows = synthetic_rows() if args.synthetic else demo_rows(args.seed)
    print(f"micro-grids: {len(rows):,} ({'synthetic grid' if args.synthetic else f'grids.demo seed {args.seed}'})")
    print(f"generated in {time.perf_counter() - started:.2f} s")

    started = time.perf_counter()
    index = MicrogridIndex(rows, revision=0)
    print(f"MicrogridIndex built in {(time.perf_counter() - started) * 1000:.0f} ms")
    brute = brute_force(rows)

    points = draw_points(rows, args.points, args.seed)

    index_answers = [None if (hit := index.locate(lon, lat)) is None else hit.code for lon, lat in points]
    brute_answers = [brute(lon, lat) for lon, lat in points]
    inside = [point for point, answer in zip(points, brute_answers, strict=True) if answer is not None]

    def index_code(lon: float, lat: float) -> str | None:
        hit = index.locate(lon, lat)
        return None if hit is None else hit.code

    # Both sides the same way: PASSES timed passes over the same points, the median pass kept.
    index_us = per_lookup_us(index_code, points)
    brute_us = per_lookup_us(brute, points)
    # Outside points scan every polygon; the inside-only figure keeps the ratio from being flattered.
    index_inside_us = per_lookup_us(index_code, inside)
    brute_inside_us = per_lookup_us(brute, inside)

    outside = sum(answer is None for answer in brute_answers)
    mismatches = [(point, a, b) for point, a, b in zip(points, index_answers, brute_answers, strict=True) if a != b]
    speed_up = brute_us / index_us
    inside_speed_up = brute_inside_us / index_inside_us
    print(f"points: {len(points):,} (seed {args.seed}; {outside:,} outside; ~{VERTEX_SHARE:.0%} on vertices)")
    print(f"timing:   median of {PASSES} passes over the points, the same for both methods")
    print(f"MicrogridIndex.locate:           {index_us:10.1f} µs per lookup  (inside only: {index_inside_us:.1f})")
    print(f"brute force, prepared, covers:   {brute_us:10.1f} µs per lookup  (inside only: {brute_inside_us:.1f})")
    print(f"speed-up:                        {speed_up:10.0f}×  (inside only: {inside_speed_up:.0f}×)")
    print(f"disagreements:                   {len(mismatches):10d}")
    for point, a, b in mismatches[:10]:
        print(f"  {point}: index {a}, brute force {b}")

    goals = Goals()
    goals.check("index and brute force agree on every point", not mismatches, f"{len(mismatches)} disagreements")
    goals.check(f"index ≤ {MICROSECONDS_TARGET} µs per lookup", index_us <= MICROSECONDS_TARGET, f"{index_us:.1f} µs")
    goals.check(
        f"index ≥ {SPEED_UP_TARGET}× faster than brute force, inside points only",
        inside_speed_up >= SPEED_UP_TARGET,
        f"{inside_speed_up:.0f}×",
    )
    return goals.exit_code()


if __name__ == "__main__":
    sys.exit(main())
