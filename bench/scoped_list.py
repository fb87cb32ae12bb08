"""Scoped petition lists over 1,000,000 petitions: the real endpoints against their bare SQL (PostgreSQL only).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/governance REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python bench/scoped_list.py [--rows 1000000] [--reuse] [--keep] [--explain] \
        [--database NAME] [--only "district centre,street command"] [--runs 20]

Seeds its own database (`gov_bench_1m`, beside the one DATABASE_URL names, which is never touched):
the demo district (grids.demo: 7,082 micro-grids) with its staff and departments, then N petitions
with COPY — a year of them, 97 % closed; open ones spread over the four tiers with the handler
area of their tier, those at street and district tier partly dispatched to a department (an
assignment row). `--reuse` keeps an already seeded database (the seed takes minutes); `--keep`
leaves it behind for the next run; otherwise it is dropped at the end. `--database` names it (one
per engineer on a shared server), `--only` measures some roles (to iterate; report full runs).

For each role (grid worker, community secretary, street command, district centre, department
handler), several users, RUNS requests each (more for a role with fewer users, the district's
one: every cell has as many samples, bench.common.runs_per_user), through django.test.Client with a real session
(Redis when REDIS_URL is set), every request a fresh one (user, session and scope re-read), the
process set up as deployed (DEBUG off, requests as through the TLS proxy: bench.common.deployed_settings):
- api:  `GET /api/v1/petitions/` — the API's first page with its count;
- todo: `GET /petitions/?tab=todo` — the staff desk's 待办 tab, rendered HTML (20 rows, their SLA
  colour and time left, the filter form) with its count capped at 10,000 like the API's.
The bare SQL baseline, in the same run, is the endpoint's own list queries (the count and the
page, captured from one request: those reading appeals_petition, or appeals_assignment for a
department's count on its parts) replayed on the raw psycopg connection: the same rows, the same
page and the same count, without Django. Goals per role and endpoint: p95 < P95_TARGET_MS and
p95 ≤ RATIO_TARGET × the bare SQL's p95. Prints each endpoint's query count and the EXPLAIN
ANALYZE of its slowest petition query, to find the cause of a miss. Exits 1 on any missed goal.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    DEPLOYED_CLIENT,
    Goals,
    bench_database,
    database_label,
    load_line,
    percentile,
    runs_per_user,
    seed_district,
    summary,
)

DATABASE = "gov_bench_1m"
P95_TARGET_MS = 30.0
RATIO_TARGET = 3.0
USERS_PER_ROLE = 6
RUNS_PER_USER = 20
ENDPOINTS = {"api": "/api/v1/petitions/", "todo": "/petitions/?tab=todo"}
# Open petitions by tier (grid, community, street, district); street and district ones are
# dispatched to a department this often.
TIER_SHARES = (0.6, 0.2, 0.15, 0.05)
DISPATCHED_SHARE = 0.5


def seed(args: argparse.Namespace) -> None:
    from django.db import connection
    from django.utils import timezone

    from appeals.models import Petition, Status, Tier
    from bench.deadline_sweep import copy_rows, petition_rows
    from governance import demo as governance_demo

    started = time.perf_counter()
    district = seed_district(args.seed)
    governance_demo.seed_staff(
        district=district, departments=governance_demo.seed_departments(district), seed=args.seed
    )
    rng = random.Random(args.seed)
    tiers = [Tier.GRID, Tier.COMMUNITY, Tier.STREET, Tier.DISTRICT]

    def realistic(rows):
        for row in rows:
            tier = rng.choices(tiers, TIER_SHARES)[0] if row["status"] != Status.CLOSED else rng.choice(tiers)
            row["tier"] = tier
            row["handler_area_id"] = {
                Tier.GRID: row["grid_id"],
                Tier.COMMUNITY: row["community_id"],
                Tier.STREET: row["street_id"],
                Tier.DISTRICT: district.pk,
            }[tier]
            if row["status"] != Status.CLOSED and tier >= Tier.STREET and rng.random() < DISPATCHED_SHARE:
                row["status"] = Status.DISPATCHED
            yield row

    rows = petition_rows(district, args.rows, seed=args.seed, overdue_share=0, now=timezone.now(), open_only=False)
    written = copy_rows(Petition, realistic(rows))
    with connection.cursor() as cursor:
        # Dispatched petitions have a lead department; a share of the closed ones at street and
        # district tier had one too (replied), so department queues hold history as well.
        cursor.execute(
            """
            WITH departments AS (SELECT array_agg(id ORDER BY id) AS ids FROM governance_department)
            INSERT INTO appeals_assignment (petition_id, department_id, role, status, dispatched_at, reply)
            SELECT p.id, d.ids[1 + p.id % cardinality(d.ids)], 'lead',
                   CASE WHEN p.status = 'dispatched' THEN 'dispatched' ELSE 'replied' END, p.created_at, ''
            FROM appeals_petition p, departments d
            WHERE p.status = 'dispatched' OR (p.status = 'closed' AND p.tier >= 3 AND p.id % 2 = 0)
            """
        )
        cursor.execute("UPDATE appeals_petition SET handler_department_id = a.department_id "
                       "FROM appeals_assignment a WHERE a.petition_id = appeals_petition.id")  # fmt: skip
        cursor.execute("VACUUM ANALYZE")
    print(f"setup:    {written:,} petitions over the demo district in {time.perf_counter() - started:.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--runs", type=int, default=RUNS_PER_USER, help="requests per user and endpoint")
    parser.add_argument("--reuse", action="store_true", help=f"keep an already seeded {DATABASE}")
    parser.add_argument("--keep", action="store_true", help=f"do not drop {DATABASE} at the end")
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--explain", action="store_true", help="print the slowest petition query and its plan")
    parser.add_argument("--only", default="", help="comma-separated role labels to measure (default: all)")
    args = parser.parse_args()
    print(f"load:     {load_line()}")
    cleanup = bench_database(require_postgres=True, name=args.database, reuse=args.reuse, deployed=True)
    try:
        return run(args)
    finally:
        cleanup(not args.keep)


def run(args: argparse.Namespace) -> int:
    import logging

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from appeals.models import Assignment, Petition
    from governance.demo import USERNAME_PREFIX
    from governance.models import Role
    from grids.models import Area, AreaLevel

    if Petition.objects.count() != args.rows:
        if Petition.objects.exists():
            sys.exit(f"{args.database} holds another data set; run without --reuse to re-create it.")
        seed(args)
    print(f"database: {database_label()}, {Petition.objects.count():,} petitions, "
          f"{Assignment.objects.count():,} assignments")  # fmt: skip
    if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # django.test.Client's host

    logging.getLogger("axes").setLevel(logging.WARNING)  # one login line per user and endpoint otherwise
    rng = random.Random(args.seed)
    User = get_user_model()

    def sample_users(role: str, codes: list[str]) -> list:
        wanted = [f"{USERNAME_PREFIX[role]}{code}" for code in rng.sample(codes, min(USERS_PER_ROLE, len(codes)))]
        return list(User.objects.filter(username__in=wanted).order_by("username"))

    def area_codes(level: int) -> list[str]:
        return list(Area.objects.filter(level=level).order_by("code").values_list("code", flat=True))

    # The busiest departments: a department's queue is only as long as what was dispatched to it.
    busy = list(
        Assignment.objects.values_list("department__code", flat=True)
        .order_by("department__code")
        .distinct()[: USERS_PER_ROLE * 2]
    )
    roles = {
        "grid worker": sample_users(Role.GRID_WORKER, area_codes(AreaLevel.GRID)),
        "community secretary": sample_users(Role.COMMUNITY_SECRETARY, area_codes(AreaLevel.COMMUNITY)),
        "street command": sample_users(Role.STREET_COMMAND, area_codes(AreaLevel.STREET)),
        "district centre": sample_users(Role.DISTRICT_CENTRE, area_codes(AreaLevel.DISTRICT)),
        "department handler": sample_users(Role.DEPARTMENT_HANDLER, busy),
    }
    most_users = max(len(users) for users in roles.values())

    raw = connection.cursor().connection  # the psycopg connection: bare SQL, no Django in between

    def petition_queries(queries: list[dict]) -> list[str]:
        # The list's page and count: a department's whole API list is counted on its parts alone
        # (appeals.selectors.petitions_listed_counted), a query without the petition table.
        listed = ('"appeals_petition"', '"appeals_assignment"')
        return [q["sql"] for q in queries if any(t in q["sql"] for t in listed) and "SAVEPOINT" not in q["sql"]]

    def get(client: Client, url: str) -> float:
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            sys.exit(f"GET {url} answered {response.status_code}: {response.content[:300]!r}")
        return elapsed

    def bare(statements: list[str]) -> float:
        started = time.perf_counter()
        for sql in statements:
            raw.execute(sql).fetchall()
        return (time.perf_counter() - started) * 1000

    def explain(sql: str) -> str:
        if sql.startswith("EXPLAIN"):  # the capped count's estimate is itself a plan
            return "(an EXPLAIN: not explained again)"
        lines = [row[0] for row in raw.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}").fetchall()]
        return "\n            ".join(lines[:14])

    goals = Goals()
    report: list[str] = []
    wanted = {name.strip() for name in args.only.split(",") if name.strip()}
    for label, users in roles.items():
        if wanted and label not in wanted:
            continue
        for endpoint, url in ENDPOINTS.items():
            samples: list[float] = []
            bare_samples: list[float] = []
            query_counts: set[int] = set()
            slowest: tuple[float, str] = (0.0, "")
            for user in users:
                client = Client(**DEPLOYED_CLIENT)
                client.force_login(user)
                get(client, url)  # warm: templates, URL resolver, this user's first page
                with CaptureQueriesContext(connection) as captured:
                    get(client, url)
                query_counts.add(len(captured.captured_queries))
                statements = petition_queries(captured.captured_queries)
                for sql in statements:
                    started = time.perf_counter()
                    raw.execute(sql).fetchall()
                    slowest = max(slowest, ((time.perf_counter() - started) * 1000, sql))
                # Interleaved, so both sides see the same load.
                for _ in range(runs_per_user(args.runs, len(users), most_users)):
                    samples.append(get(client, url))
                    bare_samples.append(bare(statements))
            p95, bare_p95 = percentile(samples, 0.95), percentile(bare_samples, 0.95)
            name = f"{label}, {endpoint}"
            print(f"--- {name}: GET {url}, {len(users)} users, {sorted(query_counts)} queries per request")
            print(f"endpoint: {summary(samples)}")
            print(f"bare SQL: {summary(bare_samples)}  ({len(statements)} petition queries replayed)")
            goals.check(f"{name}: p95 < {P95_TARGET_MS:g} ms", p95 < P95_TARGET_MS, f"{p95:.2f} ms")
            goals.check(
                f"{name}: p95 ≤ {RATIO_TARGET:g} × bare SQL",
                p95 <= RATIO_TARGET * bare_p95,
                f"{p95 / bare_p95:.1f} ×",
            )
            report.append(
                f"| {label} | {endpoint} | {statistics.median(samples):.1f} | {p95:.1f} | "
                f"{statistics.median(bare_samples):.1f} | {bare_p95:.1f} | {p95 / bare_p95:.1f}× |"
            )
            if args.explain:
                print(f"slowest petition query ({slowest[0]:.1f} ms):\n            {slowest[1][:600]}")
                print(f"plan:       {explain(slowest[1])}")
    print("\n| role | endpoint | p50 ms | p95 ms | bare p50 ms | bare p95 ms | p95 ratio |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    print("\n".join(report))
    return goals.exit_code()


if __name__ == "__main__":
    sys.exit(main())
