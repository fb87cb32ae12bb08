"""Point → micro-grid lookup: grids.spatial.MicrogridIndex against a brute-force scan.

    .venv/bin/python bench/point_lookup.py [--seed N] [--points N] [--synthetic]

Builds the demo district's 7,082 micro-grids (grids.demo.generate_areas, or with --synthetic a
plain 7,082-cell rectangle grid), draws the same seeded points for both methods — most inside,
about a third outside the district, and some exactly on shared vertices where the tie rule
(smallest code wins) decides — and prints µs per lookup, the speed-up and any disagreement.
Both are timed the same way (`per_lookup_us`: the same chunks of points, each run REPEATS times by
each method in turn, the median run per chunk, in the thread's CPU time with the wall time
beside it). No database is touched. Exits 1 if the two methods disagree on any point or the index misses
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
# Both methods run each chunk of CHUNK points REPEATS times, in turn; the median run counts.
CHUNK = 50
REPEATS = 5

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


def per_lookup_us(methods: dict[str, object], points: list[tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """µs per lookup of each method over `points`: (thread CPU time, wall time).

    The points are cut into chunks of CHUNK; every chunk is run REPEATS times by each method, one
    method's runs then the other's (which goes first alternates by chunk, so a burst of load on the
    shared machine hits both alike), and each method's time for a chunk is the median of its
    REPEATS runs. The sum over chunks, divided by the points, is
    the figure: the same repetitions and the same statistic for both methods. CPU time (the
    thread's own, `time.thread_time_ns`) is what the goal reads — a lookup does no I/O, so it is
    its whole cost, and other processes' load does not leak into it; the wall time is printed
    beside it.
    """
    cpu: dict[str, float] = dict.fromkeys(methods, 0.0)
    wall: dict[str, float] = dict.fromkeys(methods, 0.0)
    names = list(methods)
    for number, start in enumerate(range(0, len(points), CHUNK)):
        chunk = points[start : start + CHUNK]
        runs: dict[str, list[tuple[int, int]]] = {name: [] for name in methods}
        # Each method's runs of a chunk back to back (its own working set, not the other's, in the
        # CPU caches), the method going first alternating from chunk to chunk.
        for name in names if number % 2 == 0 else reversed(names):
            locate = methods[name]
            for _ in range(REPEATS):
                wall_started, cpu_started = time.perf_counter_ns(), time.thread_time_ns()
                for lon, lat in chunk:
                    locate(lon, lat)
                runs[name].append((time.thread_time_ns() - cpu_started, time.perf_counter_ns() - wall_started))
        for name, measured in runs.items():
            cpu[name] += statistics.median(c for c, _w in measured)
            wall[name] += statistics.median(w for _c, w in measured)
    count = max(1, len(points))
    return {name: (cpu[name] / count / 1000, wall[name] / count / 1000) for name in methods}


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

    # Both sides the same way (per_lookup_us): the same chunks, repetitions and statistic.
    methods = {"index": index_code, "brute": brute}
    every = per_lookup_us(methods, points)
    # Outside points scan every polygon; the inside-only figure keeps the ratio from being flattered.
    inner = per_lookup_us(methods, inside)
    index_us, brute_us = every["index"][0], every["brute"][0]
    index_inside_us, brute_inside_us = inner["index"][0], inner["brute"][0]

    outside = sum(answer is None for answer in brute_answers)
    mismatches = [(point, a, b) for point, a, b in zip(points, index_answers, brute_answers, strict=True) if a != b]
    speed_up = brute_us / index_us
    inside_speed_up = brute_inside_us / index_inside_us
    wall_inside_speed_up = inner["brute"][1] / inner["index"][1]
    print(f"points: {len(points):,} (seed {args.seed}; {outside:,} outside; ~{VERTEX_SHARE:.0%} on vertices)")
    print(
        f"timing:   chunks of {CHUNK} points, each run {REPEATS}× by each method in turn, median run per chunk;"
        " CPU time of this thread (wall time in brackets)"
    )
    print(
        f"MicrogridIndex.locate:           {index_us:10.2f} µs per lookup  ({every['index'][1]:.2f})"
        f"  inside only: {index_inside_us:.2f} ({inner['index'][1]:.2f})"
    )
    print(
        f"brute force, prepared, covers:   {brute_us:10.1f} µs per lookup  ({every['brute'][1]:.1f})"
        f"  inside only: {brute_inside_us:.1f} ({inner['brute'][1]:.1f})"
    )
    print(
        f"speed-up:                        {speed_up:10.0f}×  inside only: {inside_speed_up:.0f}×"
        f" (wall time: {wall_inside_speed_up:.0f}×)"
    )
    print(f"pure buckets:                    {index.pure_buckets:10,} of {sum(c is not None for c in index._cells):,}")
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
