"""The deadline sweeper over 100,000 open petitions of which about 1 % are overdue (PostgreSQL only).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/governance .venv/bin/python bench/deadline_sweep.py [--rows N]

Creates and drops its own database (`bench_sweep`) (see bench/intake.py). Writes the demo
district's areas and staff, then the open petitions with COPY. Times:
- baseline: in one transaction, `SELECT … FOR UPDATE SKIP LOCKED` of the same overdue rows (the
  sweeper's own claim query, without the work) followed by a plain UPDATE of them;
- sweep: `appeals.services.petitions_escalate_overdue()` — claims batches of 500 and escalates
  each row one tier up (save, event, staff notifications), as the beat task does every minute.
Prints seconds (goal < SECONDS_TARGET), the ratio sweep / baseline and the claim query's plan.
Exits 1 when the sweep misses the goal or leaves an overdue petition behind.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Goals, bench_database, database_label, load_line, seed_district

SECONDS_TARGET = 2.0
OVERDUE_SHARE = 0.01


def copy_rows(model, rows: Iterable[dict]) -> int:
    """COPY dicts of attnames into the model's table; unspecified columns take their defaults."""
    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {}
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults[f.attname] = now
        elif f.has_default():
            defaults[f.attname] = f.get_default()
        else:
            defaults[f.attname] = "" if (f.empty_strings_allowed and not f.null) else None
    columns = ", ".join(f'"{f.column}"' for f in fields)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor
        with raw.copy(f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN') as copy:
            written = 0
            for row in rows:
                copy.write_row([row.get(f.attname, defaults[f.attname]) for f in fields])
                written += 1
    return written


def petition_rows(district, count: int, *, seed: int, overdue_share: float, now, open_only: bool) -> Iterator[dict]:
    """Petition rows spread over the district's micro-grids (consistent area FKs and paths).

    open_only: open petitions of the last 10 days, `overdue_share` of them past their deadline.
    Otherwise a year of petitions, 97 % closed. Generated lazily: a million rows never sit in memory.
    """
    from appeals.models import Category, Status
    from grids.models import Area, AreaLevel

    rng = random.Random(seed)
    areas = {
        a["pk"]: a
        for a in Area.objects.filter(path__startswith=district.path).values("pk", "parent_id", "path", "level")
    }
    places = []
    for area in areas.values():
        if area["level"] == AreaLevel.MICROGRID:
            grid = areas[area["parent_id"]]
            community = areas[grid["parent_id"]]
            places.append((area["pk"], area["path"], grid["pk"], community["pk"], community["parent_id"]))
    places.sort(key=lambda p: p[1])
    categories = list(Category.objects.filter(parent__isnull=False).values_list("pk", flat=True))
    open_statuses = [Status.ASSIGNED, Status.ACCEPTED, Status.PROCESSING]
    # The queries above run now, not on the first next(): the rows are consumed inside COPY.
    return _rows(places, categories, open_statuses, count, rng, overdue_share, now, open_only)


def _rows(places, categories, open_statuses, count, rng, overdue_share, now, open_only) -> Iterator[dict]:
    from appeals.models import Status, Tier

    for i in range(count):
        microgrid, path, grid, community, street = rng.choice(places)
        created = now - timedelta(seconds=rng.uniform(0, 365 * 86400 if not open_only else 10 * 86400))
        if open_only:
            status = rng.choice(open_statuses)
            overdue = rng.random() < overdue_share
            deadline = (
                now - timedelta(minutes=rng.uniform(1, 600)) if overdue else now + timedelta(hours=rng.uniform(1, 72))
            )
            resolved = None
        else:
            status = Status.CLOSED if rng.random() < 0.97 else rng.choice(open_statuses)
            deadline = None if status == Status.CLOSED else created + timedelta(days=3)
            resolved = created + timedelta(hours=rng.uniform(1, 72)) if status == Status.CLOSED else None
        yield (
            {
                "tracking_no": f"{i:012d}",
                "access_token": f"bench-{i:012d}",  # unique, as the column requires (never a real link)
                "channel": "mobile",
                "title": "楼道堆放杂物",
                "description": "楼道里堆满了纸箱和旧家具，影响通行。",
                "category_id": rng.choice(categories),
                "microgrid_id": microgrid,
                "grid_id": grid,
                "community_id": community,
                "street_id": street,
                "area_path": path,
                "status": status,
                "tier": Tier.GRID,
                "handler_area_id": grid,
                "clock_started_at": created,
                "deadline_at": deadline,
                "resolved_at": resolved,
                "closed_at": resolved,
                "created_at": created,
            }
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--profile", action="store_true", help="print where the sweep spends its time")
    args = parser.parse_args()
    print(f"load:     {load_line()}")
    cleanup = bench_database(require_postgres=True, name="bench_sweep")
    try:
        return run(args)
    finally:
        cleanup()


def run(args: argparse.Namespace) -> int:
    from django.db import connection, transaction
    from django.utils import timezone

    from appeals.models import TIMED_STATUSES, Petition
    from appeals.services import petitions_escalate_overdue
    from appeals.services.sweeps import SWEEP_BATCH_SIZE
    from governance import demo as governance_demo

    started = time.perf_counter()
    district = seed_district(args.seed)
    governance_demo.seed_staff(
        district=district, departments=governance_demo.seed_departments(district), seed=args.seed
    )
    now = timezone.now()
    copy_rows(
        Petition,
        petition_rows(district, args.rows, seed=args.seed, overdue_share=OVERDUE_SHARE, now=now, open_only=True),
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE appeals_petition")
    overdue = Petition.objects.filter(status__in=TIMED_STATUSES, deadline_at__lte=now).count()
    print(f"database: {database_label()}")
    print(f"setup:    {args.rows:,} open petitions, {overdue:,} overdue, in {time.perf_counter() - started:.1f} s")

    claim = (
        Petition.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status__in=TIMED_STATUSES, deadline_at__lte=now)
        .order_by("deadline_at")
    )
    with transaction.atomic(), connection.cursor() as cursor:
        sql, params = claim[:SWEEP_BATCH_SIZE].query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n          ".join(row[0] for row in cursor.fetchall())

    # Baseline: claim the same rows and touch them with one UPDATE, rolled back so the sweep finds them.
    started = time.perf_counter()
    with transaction.atomic():
        ids = [p.pk for p in claim.only("pk")]
        Petition.objects.filter(pk__in=ids).update(escalated_on_deadline=True)
        transaction.set_rollback(True)
    baseline = time.perf_counter() - started

    profiler = cProfile.Profile() if args.profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    escalated = petitions_escalate_overdue()
    sweep = time.perf_counter() - started
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    left = Petition.objects.filter(status__in=TIMED_STATUSES, deadline_at__lte=timezone.now()).count()

    print(f"baseline: {baseline:.3f} s  (SELECT … FOR UPDATE SKIP LOCKED of {len(ids):,} rows + one UPDATE)")
    print(f"sweep:    {sweep:.3f} s  petitions_escalate_overdue() escalated {escalated:,}, {left} still overdue")
    print(f"          {sweep / max(escalated, 1) * 1000:.2f} ms per escalated petition")
    print(f"ratio:    sweep = {sweep / baseline:.1f} × baseline")
    print(f"plan:     {plan}")
    goals = Goals()
    goals.check(f"every overdue petition escalated ({overdue:,})", escalated == overdue and left == 0, f"{escalated:,}")
    goals.check(f"sweep < {SECONDS_TARGET:g} s", sweep < SECONDS_TARGET, f"{sweep:.3f} s")
    return goals.exit_code()


if __name__ == "__main__":
    sys.exit(main())
