"""The report's hotspots section over a year of 1,000,000 located petitions, against its bare SQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/governance \
        .venv/bin/python bench/hotspots.py [--rows 1000000] [--reuse] [--keep]

Seeds its own database (`gov_bench_hotspots`, beside the one DATABASE_URL names, which is never
touched) with bench/monthly_report.py's year of petitions, rounds, ratings and events, then gives
every petition a point and an address (INSERT … SELECT / UPDATE, no Python loop over rows): a
point inside its micro-grid's box, the micro-grid's name as the address, and one petition in 40
moved onto one of 12 hot places (a few metres around a micro-grid's centre), so the clusters are
real ones among a busy background (83,000 points in the district's month).

Measured, in the same run, RUNS times each (the median is compared):
- hotspots: `hotspots_section` for the district's November 2026 and for its largest street;
- bare: the SQL statements it ran (captured once), replayed on the raw psycopg cursor: the same
  aggregates without Django or the Python that ranks, scores and joins cells into clusters.
Goals: the district's section < 1.5 s and ≤ 2 × its bare SQL; a street's < 0.5 s; the 12 hot
places found as clusters. Exits 1 on a miss.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Goals, bench_database, database_label, load_line
from bench.monthly_report import MONTH, NOW, YEAR, _timed
from bench.monthly_report import seed as seed_report_history

DATABASE = "gov_bench_hotspots"
RUNS = 3
DISTRICT_GOAL_S = 1.5
STREET_GOAL_S = 0.5
RATIO_GOAL = 2.0
HOT_PLACES = 12
HOT_EVERY = 40  # one petition in HOT_EVERY goes to a hot place

# Each micro-grid's box from its GeoJSON ring.
BOXES_SQL = """
CREATE TEMP TABLE bench_boxes AS
SELECT a.id AS microgrid_id, a.name,
       min((pt->>0)::float) AS x0, max((pt->>0)::float) AS x1,
       min((pt->>1)::float) AS y0, max((pt->>1)::float) AS y1,
       ROW_NUMBER() OVER (ORDER BY a.path) AS n
FROM grids_area a, jsonb_array_elements(a.boundary->'coordinates'->0) AS pt
WHERE a.level = 5
GROUP BY a.id, a.name, a.path
"""

# A point inside the micro-grid's box (10-90 % of each side), or near a hot place's centre.
POINTS_SQL = f"""
WITH hot AS (
    SELECT h, b.microgrid_id, b.name, (b.x0 + b.x1) / 2 AS cx, (b.y0 + b.y1) / 2 AS cy
    FROM generate_series(1, {HOT_PLACES}) AS h
    JOIN bench_boxes b ON b.n = 1 + (h * 587) % (SELECT count(*) FROM bench_boxes)
)
UPDATE appeals_petition p
SET lon = CASE WHEN p.id % {HOT_EVERY} = 0 THEN hot.cx + ((p.id * 13) % 100 - 50) * 0.000004
               ELSE b.x0 + (b.x1 - b.x0) * (0.1 + 0.8 * ((p.id * 7919) % 1000) / 1000.0) END,
    lat = CASE WHEN p.id % {HOT_EVERY} = 0 THEN hot.cy + ((p.id * 17) % 100 - 50) * 0.000004
               ELSE b.y0 + (b.y1 - b.y0) * (0.1 + 0.8 * ((p.id * 104729) % 1000) / 1000.0) END,
    address = CASE WHEN p.id % {HOT_EVERY} = 0 THEN hot.name ELSE b.name END
FROM bench_boxes b, hot
WHERE b.microgrid_id = p.microgrid_id AND hot.h = 1 + (p.id / {HOT_EVERY}) % {HOT_PLACES}
"""


def seed(args: argparse.Namespace) -> None:
    from django.db import connection

    seed_report_history(args)
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(BOXES_SQL)
        cursor.execute(POINTS_SQL)
        print(f"seed:     points     {cursor.rowcount:>10,} rows in {time.perf_counter() - began:6.1f} s")
        cursor.execute("VACUUM ANALYZE appeals_petition")


def run(args: argparse.Namespace) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from analytics.selectors.hotspots import hotspots_section
    from appeals.models import Petition
    from grids.models import Area, AreaLevel

    if not (args.reuse and Petition.objects.filter(lon__isnull=False).exists()):
        seed(args)
    print(f"database: {database_label()}, {Petition.objects.count():,} petitions")
    district = Area.objects.get(level=AreaLevel.DISTRICT)
    with connection.cursor() as cursor:
        cursor.execute("SELECT street_id FROM appeals_petition GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
        street = Area.objects.get(pk=cursor.fetchone()[0])
    goals = Goals()

    def section(area):
        return lambda: hotspots_section(area, YEAR, MONTH, now=NOW)

    def bare(statements):
        raw = connection.connection

        def replay():
            # As captured: the section's transaction (BEGIN, its SET LOCAL settings, COMMIT) too.
            with raw.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)
                    if cursor.description is not None:
                        cursor.fetchall()

        return replay

    for label, area, goal in (("district", district, DISTRICT_GOAL_S), ("street", street, STREET_GOAL_S)):
        hotspots_section(area, YEAR, MONTH, now=NOW)  # warm
        with CaptureQueriesContext(connection) as captured:
            result = hotspots_section(area, YEAR, MONTH, now=NOW)
        statements = [q["sql"] for q in captured.captured_queries]
        section_s, _ = _timed(section(area), args.runs)
        bare_s, _ = _timed(bare(statements), args.runs)
        ratio = section_s / bare_s if bare_s else float("inf")
        petitions = sum(row["petitions"] for row in result["grids"])
        top = result["grids"][0]
        print(
            f"{label}:  {area.name} {YEAR}-{MONTH:02d}: {petitions:,} petitions in {len(result['grids'])} grids; "
            f"top grid {top['unit']['name']} risk {top['risk']} ({top['petitions']} petitions, "
            f"{top['per_1000']} per 1,000 households, {top['repeats']} repeats, {top['overdue']} overdue)"
        )
        print(
            f"{label}:  {len(result['clusters'])} clusters: "
            + "; ".join(f"{c['name']} {c['count']} ({c['radius_m']} m)" for c in result["clusters"][:HOT_PLACES])
        )
        print(
            f"{label}:  hotspots {section_s * 1000:8.1f} ms  bare SQL {bare_s * 1000:8.1f} ms "
            f"({len(statements)} statements)  ratio {ratio:.2f}  (median of {args.runs})"
        )
        goals.check(f"{label} hotspots < {goal} s", section_s < goal, f"{section_s:.2f} s")
        if label == "district":
            goals.check(f"district hotspots <= {RATIO_GOAL:.0f} x bare SQL", ratio <= RATIO_GOAL, f"{ratio:.2f}")
            goals.check(
                f"the {HOT_PLACES} hot places found as clusters",
                len(result["clusters"]) >= HOT_PLACES,
                f"{len(result['clusters'])} clusters",
            )
    return goals.exit_code()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--reuse", action="store_true", help=f"keep an already seeded {DATABASE}")
    parser.add_argument("--keep", action="store_true", help=f"do not drop {DATABASE} at the end")
    parser.add_argument("--database", default=DATABASE)
    args = parser.parse_args()
    print(f"load:     {load_line()}")
    cleanup = bench_database(require_postgres=True, name=args.database, reuse=args.reuse)
    try:
        return run(args)
    finally:
        cleanup(not args.keep)


if __name__ == "__main__":
    sys.exit(main())
