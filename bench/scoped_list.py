"""Scoped petition lists over 1,000,000 petitions (PostgreSQL only).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/governance .venv/bin/python bench/scoped_list.py [--rows N]

Creates and drops its own database (`bench_scoped_list`) (see bench/intake.py). Writes the demo
district (grids.demo: 7,082 micro-grids) with its staff, then N petitions spread over the
micro-grids with COPY (a year of them, 97 % closed), and ANALYZEs. Then times the first page of a
list screen — `appeals.selectors.petitions_visible_to(user)` with the list API's select_related, ORDER BY
created_at DESC LIMIT 20, the user's scope re-read each time as on a fresh request — for grid
workers, community secretaries and street command users of several areas, and prints p50/p95
(goal p95 < P95_TARGET_MS). Baselines in the same run: the same page unscoped, and a primary-key
lookup. EXPLAIN ANALYZE of each role's query is printed, to find the cause of a miss; then the
proposed index (PROPOSED_INDEX) is built and everything is measured again (--no-proposal skips it).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.deadline_sweep import copy_rows, petition_rows
from bench.intake import bench_database, database_label, percentile, seed_district

P95_TARGET_MS = 30.0
PAGE_SIZE = 20
USERS_PER_ROLE = 8
RUNS_PER_USER = 25
# `area_path LIKE 'prefix%'` can use a b-tree only with pattern ops (or a "C" collation); the
# migrated (area_path, -created_at) index has neither. This is the index the bench proposes.
PROPOSED_INDEX = (
    "CREATE INDEX appeals_pet_scope_pattern ON appeals_petition (area_path varchar_pattern_ops, created_at DESC)"
)


def list_related() -> tuple[str, ...]:
    """What the list API joins (appeals.apis.LIST_RELATED), so the page is the API's page."""
    try:
        from appeals.apis import LIST_RELATED
    except ImportError:
        return ("category", "handler_area", "handler_department")
    return tuple(LIST_RELATED)


def page(queryset) -> list:
    return list(queryset.select_related(*list_related()).order_by("-created_at")[:PAGE_SIZE])


def timed(fn, runs: int) -> list[float]:
    fn()  # warm
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--no-proposal", action="store_true", help="Do not try the proposed index.")
    args = parser.parse_args()
    cleanup = bench_database(require_postgres=True, name="bench_scoped_list")
    try:
        return run(args)
    finally:
        cleanup()


def run(args: argparse.Namespace) -> int:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from appeals.models import Petition
    from appeals.selectors import petitions_visible_to
    from governance import demo as governance_demo
    from governance.scoping import forget_scope
    from grids.models import Area, AreaLevel

    started = time.perf_counter()
    district = seed_district(args.seed)
    governance_demo.seed_staff(
        district=district, departments=governance_demo.seed_departments(district), seed=args.seed
    )
    now = timezone.now()
    rows = petition_rows(district, args.rows, seed=args.seed, overdue_share=0, now=now, open_only=False)
    written = copy_rows(Petition, rows)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE appeals_petition")
    print(f"database: {database_label()}")
    print(f"setup:    {written:,} petitions over the demo district in {time.perf_counter() - started:.1f} s")

    rng = random.Random(args.seed)
    User = get_user_model()
    roles = {"grid worker": ("gw", AreaLevel.GRID), "community secretary": ("cs", AreaLevel.COMMUNITY),
             "street command": ("sc", AreaLevel.STREET)}  # fmt: skip
    users = {}
    for label, (prefix, level) in roles.items():
        codes = list(Area.objects.filter(level=level).values_list("code", flat=True))
        wanted = [f"{prefix}{c}" for c in rng.sample(codes, min(USERS_PER_ROLE, len(codes)))]
        users[label] = list(User.objects.filter(username__in=wanted))

    def explain(queryset) -> str:
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}", params)
            lines = [row[0] for row in cursor.fetchall()]
        # The access path is what matters: keep the scan lines and the timing.
        scans = [line.strip() for line in lines if "on appeals_petition" in line or "area_path" in line]
        times = [line.strip() for line in lines if line.startswith(("Planning Time", "Execution Time"))]
        return "\n            ".join(scans[:3] + times)

    def page_queryset(queryset):
        return queryset.select_related(*list_related()).order_by("-created_at")[:PAGE_SIZE]

    def measure(title: str) -> float:
        unscoped = timed(lambda: page(Petition.objects.all()), RUNS_PER_USER * 4)
        ids = list(Petition.objects.order_by("?").values_list("pk", flat=True)[:100])
        by_pk = timed(lambda: Petition.objects.select_related("category__parent").get(pk=rng.choice(ids)), 100)
        base = statistics.median(unscoped)
        print(f"--- {title}")
        print(f"baseline: unscoped first page p50 {base:.2f} ms, p95 {percentile(unscoped, 0.95):.2f} ms")
        print(
            f"          primary-key lookup  p50 {statistics.median(by_pk):.2f} ms, p95 {percentile(by_pk, 0.95):.2f} ms"
        )
        worst = 0.0
        plans = {"unscoped": explain(page_queryset(Petition.objects.all()))}
        for label, role_users in users.items():
            samples: list[float] = []
            for user in role_users:

                def fresh_request(user=user) -> list:
                    forget_scope(user)  # as on a new request: the scope query is part of the page
                    return page(petitions_visible_to(user))

                samples += timed(fresh_request, RUNS_PER_USER)
            p50, p95 = statistics.median(samples), percentile(samples, 0.95)
            worst = max(worst, p95)
            print(
                f"{label:<20} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  ({p50 / base:.1f} × unscoped p50, n={len(samples)})"
            )
            forget_scope(role_users[0])
            plans[label] = explain(page_queryset(petitions_visible_to(role_users[0])))
        verdict = "meets" if worst < P95_TARGET_MS else "misses"
        print(f"verdict:  worst p95 {worst:.2f} ms {verdict} the goal < {P95_TARGET_MS} ms")
        for label, plan in plans.items():
            print(f"plan ({label}):\n            {plan}")
        return worst

    worst = measure("schema as migrated")
    if not args.no_proposal:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(PROPOSED_INDEX)
            cursor.execute("ANALYZE appeals_petition")
        print(f"\nproposed index built in {time.perf_counter() - started:.1f} s: {PROPOSED_INDEX}")
        worst = measure("with the proposed index")
    return 0 if worst < P95_TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
