"""政策找人 over 1,000,000 residents: the finder's real endpoints against their bare SQL (PostgreSQL only).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anydb REDIS_URL=redis://127.0.0.1:6379/7 \
        .venv/bin/python bench/policy_finder.py [--rows 1000000] [--reuse] [--keep] [--explain]

Seeds its own database (`gov_bench_finder`, beside the one DATABASE_URL names, never touched): the
demo district (grids.demo: 22 streets, 137 communities, 7,082 micro-grids) with its staff, then,
in SQL (`INSERT … SELECT generate_series`, no row passes through Python):
- houses: ~61 per micro-grid (70 % owner-occupied, 18 % rented, 7 % vacant, 3 % shops, 2 % group
  rentals), each with its level columns and a unique address that is its own address key;
- residents: 1–4 per house (mean 2.3) until ROWS, an old Qingdao neighbourhood's age pyramid
  (13 % under 18, 18 % 18–34, 36 % 35–59, 27 % 60–79, 6 % 80+), 15 % floating, 5 % moved away
  or deceased, notes on 6 % (a few mention 疫区), phones encrypted (a pool of 1,000 Fernet
  tokens made with the real key, so a page decrypts real tokens); living alone = the only
  active resident of the house;
- tags (~0.6 per resident): 60+ and 80+ from the birth date, living alone, veterans (3 % of men
  over 35), unemployed (4 % of 18–59), disabled 2.5 %, 低保 1.5 %, party members 8 % of adults.
- petitions: 5,000 open (a few days' intake of a district of a million) and 45,000 closed, each
  filed from a seeded house's address (what "has an open petition" matches), with a phone that
  is nobody's; added to a database seeded without them too.
Then VACUUM ANALYZE (what autovacuum does after a bulk load).

Measured, for each role (community secretary: 6 users; street command: 4; district centre: 1) and
each of the seven typical condition sets below (the last: 80+ with an open petition), RUNS
requests per user (more for a role with fewer users: every cell has RUNS × 6 samples,
bench.common.runs_per_user) through django.test.Client with a real session (the process set up as deployed:
DEBUG off, requests as through the TLS proxy, bench.common.deployed_settings), each a fresh request (session,
user and scope re-read):
- count: `GET /residents/finder/count/?…` — the live count htmx asks for on every change;
- list:  `GET /residents/finder/?…` — the count and the first page of 20, rendered, with the
  access-log rows a revealing role writes.
The bare SQL, in the same run and interleaved: the endpoint's own resident queries (captured from
one request: the count; for the list also the page, and its tags where they are a query of their
own) replayed on the raw psycopg connection. Goals per role, conditions and endpoint: p95 < 100 ms
and p95 ≤ 2 × the bare SQL's p95. Prints the load average at the start and the end. Exits 1 on any
missed goal.

Also measured, not a goal: the floor, the live count refusing its input (`FLOOR_URL`, a 400: the
session, the user, the scope and the form, no resident statement), asked by the same users
interleaved with every cell's samples. Each cell prints (floor + bare SQL) / bare SQL at the
median: the ratio an endpoint would show that did nothing beyond the refusal's work and its
statements. Where that is 2 or more, no count or list on this request cycle meets the ratio goal.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

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

DATABASE = "gov_bench_finder"
P95_TARGET_MS = 100.0
RATIO_TARGET = 2.0
RUNS_PER_USER = 5
USERS = {"community secretary": 6, "street command": 4, "district centre": 1}
PHONE_POOL = 1_000
# Typical policies: (label, the finder's query parameters; tag codes are turned into ids).
CONDITIONS = [
    ("women 35-64 (screening)", {"gender": "female", "age_min": 35, "age_max": 64}),
    ("80+ living alone", {"age_min": 80, "living_alone": "on"}),
    ("unemployed veterans", {"tags": ["veteran", "unemployed"], "tag_mode": "all"}),
    ("disabled or dibao, registered", {"tags": ["disabled", "dibao"], "tag_mode": "any", "registration": "registered"}),
    ("floating in group rentals", {"registration": "floating", "house_use": ["group_rental"]}),
    ("keyword 疫区", {"q": "疫区"}),
    ("80+ with an open petition", {"age_min": 80, "open_petition": "on"}),
]
# Open petitions at any one time over the district (a few days' intake of a district of a million),
# each filed from a seeded house's address; and the closed ones beside them in the same table.
OPEN_PETITIONS = 5_000
CLOSED_PETITIONS = 45_000
ENDPOINTS = {"count": "/residents/finder/count/", "list": "/residents/finder/"}
# The live count refusing its input (an age that is not a number): the request without its statement.
FLOOR_URL = "/residents/finder/count/?age_min=x"


SEED_SQL = [
    # Houses: ~61 per micro-grid, with the micro-grid's grid, community and street.
    """
    INSERT INTO residents_house (address, address_key, doorplate_code, microgrid_id, grid_id, community_id,
                                 street_id, area_path, lon, lat, building_id, unit, floor, room, use, notes)
    SELECT road || m.id || '号' || g || '户', road || m.id || '号' || g || '户', NULL, m.id, gr.id, c.id, s.id, m.path,
           NULL, NULL, NULL, 1 + g %% 4, 1 + g %% 7, (100 * (1 + g %% 7) + g %% 4)::text,
           CASE WHEN h < 70 THEN 'owner_occupied' WHEN h < 88 THEN 'rented' WHEN h < 95 THEN 'vacant'
                WHEN h < 98 THEN 'shop' ELSE 'group_rental' END, ''
    FROM grids_area m
    JOIN grids_area gr ON gr.id = m.parent_id
    JOIN grids_area c ON c.id = gr.parent_id
    JOIN grids_area s ON s.id = c.parent_id
    CROSS JOIN LATERAL generate_series(1, %(per_microgrid)s) AS g
    CROSS JOIN LATERAL (SELECT (m.id * 7919 + g * 104729) %% 100 AS h,
                               (ARRAY['幸福路','延安路','辽宁路','登州路','台东一路','威海路','萍乡路','华阳路'])[1 + (m.id + g) %% 8] AS road) x
    WHERE m.level = 5
    ORDER BY m.path, g
    """,
    # Residents: 1-4 per (non-vacant) house, the age pyramid, registration, status, notes.
    """
    INSERT INTO residents_resident (name, gender, birth_date, id_number, id_number_hash, phone, phone_hash, house_id,
                                    relation, registration, moved_in_on, moved_out_on, status, living_alone, notes,
                                    purged_at, created_at, updated_at, microgrid_id, grid_id, community_id,
                                    street_id, area_path)
    SELECT (ARRAY['王','李','张','刘','陈','杨','黄','赵','吴','周','徐','孙','马','朱','胡','郭','于','姜','董','曲'])[1 + floor(random() * 20)::int]
           || (ARRAY['伟','芳','娜','秀英','敏','静','丽','强','磊','军','洋','勇','艳','杰','娟','涛','明','超','秀兰','霞'])[1 + floor(random() * 20)::int],
           CASE WHEN random() < 0.5 THEN 'female' ELSE 'male' END,
           current_date - (365.25 * age + floor(random() * 365))::int,
           '', '', p.token, '', h.id,
           CASE WHEN n = 1 THEN 'householder' WHEN n = 2 THEN 'spouse' ELSE 'child' END,
           CASE WHEN random() < 0.15 THEN 'floating' ELSE 'registered' END,
           NULL, NULL,
           CASE WHEN st < 0.95 THEN 'active' WHEN st < 0.99 THEN 'moved_away' ELSE 'deceased' END,
           false,
           CASE WHEN nt < 0.002 THEN '近期去过疫区，已登记' WHEN nt < 0.02 THEN '行动不便，需要上门服务'
                WHEN nt < 0.04 THEN '子女在外地' WHEN nt < 0.06 THEN '轮椅出行' ELSE '' END,
           NULL, now(), now(), h.microgrid_id, h.grid_id, h.community_id, h.street_id, h.area_path
    FROM residents_house h
    CROSS JOIN LATERAL generate_series(1, CASE WHEN (h.id * 2654435761) %% 100 < 25 THEN 1
                                              WHEN (h.id * 2654435761) %% 100 < 60 THEN 2
                                              WHEN (h.id * 2654435761) %% 100 < 85 THEN 3 ELSE 4 END) AS n
    CROSS JOIN LATERAL (SELECT random() + 0 * n AS a, random() + 0 * n AS st, random() + 0 * n AS nt) r
    CROSS JOIN LATERAL (SELECT CASE WHEN r.a < 0.13 THEN floor(r.a / 0.13 * 18)
                                    WHEN r.a < 0.31 THEN 18 + floor((r.a - 0.13) / 0.18 * 17)
                                    WHEN r.a < 0.67 THEN 35 + floor((r.a - 0.31) / 0.36 * 25)
                                    WHEN r.a < 0.94 THEN 60 + floor((r.a - 0.67) / 0.27 * 20)
                                    ELSE 80 + floor((r.a - 0.94) / 0.06 * 20) END AS age) y
    JOIN bench_phones p ON p.i = (h.id * 31 + n) %% %(phones)s
    WHERE h.use <> 'vacant'
    ORDER BY h.id, n
    LIMIT %(rows)s
    """,
    # Living alone: the only active resident of the house (what residents.services keeps).
    """
    UPDATE residents_resident r SET living_alone = true
    FROM (SELECT house_id FROM residents_resident WHERE status = 'active' GROUP BY house_id HAVING COUNT(*) = 1) one
    WHERE r.house_id = one.house_id AND r.status = 'active'
    """,
    # Tags: derived from the birth date and the house, manual ones at realistic rates.
    """
    INSERT INTO residents_residenttag (resident_id, tag_id, since, note)
    SELECT r.id, t.id, NULL, ''
    FROM residents_resident r
    JOIN residents_tag t ON t.community_id IS NULL AND (
         (t.code = 'elderly_60' AND r.birth_date <= current_date - interval '60 years')
      OR (t.code = 'elderly_80' AND r.birth_date <= current_date - interval '80 years')
      OR (t.code = 'living_alone' AND r.living_alone)
      OR (t.code = 'veteran' AND r.gender = 'male' AND r.birth_date <= current_date - interval '35 years' AND random() < 0.03)
      OR (t.code = 'unemployed' AND r.birth_date BETWEEN current_date - interval '60 years' AND current_date - interval '18 years' AND random() < 0.04)
      OR (t.code = 'disabled' AND random() < 0.025)
      OR (t.code = 'dibao' AND random() < 0.015)
      OR (t.code = 'party_member' AND r.birth_date <= current_date - interval '18 years' AND random() < 0.08))
    ORDER BY r.id
    """,
]


PETITIONS_SQL = """
    INSERT INTO appeals_petition (tracking_no, access_token, channel, external_ref, contact_name, contact_phone,
                                  title, description, need_type, urgency, handling_mode, address, area_path,
                                  microgrid_id, grid_id, community_id, street_id, status, tier, handler_area_id,
                                  escalated_on_deadline, supervised, urge_count, reply, rating, reopen_count,
                                  repeat_count, round_count, sweep_error, created_at, resolved_at, closed_at,
                                  updated_at, address_key, contact_phone_hash)
    SELECT 'BF' || lpad(i::text, 10, '0'), md5('bench-finder-' || i), 'hotline', '', '',
           '13' || lpad(((i::bigint * 2654435761) %% 1000000000)::text, 9, '0'),
           '楼道灯不亮', '楼道灯坏了很久，请尽快维修。', 'individual', 'normal', 'fast', h.address, h.area_path,
           h.microgrid_id, h.grid_id, h.community_id, h.street_id,
           CASE WHEN i <= %(open)s THEN (ARRAY['assigned','accepted','processing','dispatched'])[1 + i %% 4]
                ELSE 'closed' END,
           2, h.community_id, false, false, 0, '', '', 0, 0, 1, '',
           now() - (i %% 720) * interval '12 hours',
           CASE WHEN i > %(open)s THEN now() - (i %% 720) * interval '12 hours' + interval '3 days' END,
           CASE WHEN i > %(open)s THEN now() - (i %% 720) * interval '12 hours' + interval '4 days' END,
           now(), h.address_key, ''
    FROM generate_series(1, %(total)s) AS i
    JOIN residents_house h ON h.id = 1 + (i::bigint * 7919) %% %(houses)s
"""


def seed_petitions() -> None:
    """Petitions filed from seeded houses (OPEN_PETITIONS open, CLOSED_PETITIONS closed): what the
    condition "has an open petition" reads. Added to a database seeded before the condition too."""
    from django.db import connection

    from appeals.models import Petition
    from governance.derived import derived_fields
    from governance.management.commands.personal_data_rekey import reindex_derived

    step = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM residents_house")
        houses = cursor.fetchone()[0]
        params = {"open": OPEN_PETITIONS, "total": OPEN_PETITIONS + CLOSED_PETITIONS, "houses": houses}
        cursor.execute(PETITIONS_SQL, params)
        print(f"setup:    {cursor.rowcount:>9,} rows  {time.perf_counter() - step:6.1f} s  petitions")
        # The contact phone's digest (a keyed hash, not computable in SQL), as the command that
        # recomputes it after a new blind-index key does (governance.derived).
        reindex_derived(Petition, derived_fields(Petition, keyed=True))
        cursor.execute("VACUUM ANALYZE appeals_petition")


def seed(args: argparse.Namespace) -> None:
    from django.db import connection

    from governance import demo as governance_demo
    from governance.crypto import encrypt

    started = time.perf_counter()
    district = seed_district(args.seed)
    governance_demo.seed_staff(
        district=district, departments=governance_demo.seed_departments(district), seed=args.seed
    )
    rng = random.Random(args.seed)
    microgrids = connection.cursor()
    microgrids.execute("SELECT COUNT(*) FROM grids_area WHERE level = 5")
    per_microgrid = max(1, round(args.rows / 2.3 / 0.93 / microgrids.fetchone()[0]))
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [(args.seed % 1000) / 1000])
        cursor.execute("CREATE TEMP TABLE bench_phones (i int PRIMARY KEY, token text)")
        tokens = [(i, encrypt(f"13{rng.randrange(10**9):09d}")) for i in range(PHONE_POOL)]
        cursor.executemany("INSERT INTO bench_phones VALUES (%s, %s)", tokens)
        params = {"per_microgrid": per_microgrid, "phones": PHONE_POOL, "rows": args.rows}
        for sql in SEED_SQL:
            step = time.perf_counter()
            cursor.execute(sql, params if "%(" in sql else None)
            print(f"setup:    {cursor.rowcount:>9,} rows  {time.perf_counter() - step:6.1f} s  {sql.split()[0:3]}")
        cursor.execute("DROP TABLE bench_phones")
        cursor.execute("VACUUM ANALYZE residents_house")
        cursor.execute("VACUUM ANALYZE residents_resident")
        cursor.execute("VACUUM ANALYZE residents_residenttag")
    print(f"setup:    seeded in {time.perf_counter() - started:.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--runs", type=int, default=RUNS_PER_USER, help="requests per user, conditions and endpoint")
    parser.add_argument("--reuse", action="store_true", help=f"keep an already seeded {DATABASE}")
    parser.add_argument("--keep", action="store_true", help=f"do not drop {DATABASE} at the end")
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--explain", action="store_true", help="print the plan of the slowest resident query")
    parser.add_argument("--only", default="", help="run only the conditions whose label contains this")
    args = parser.parse_args()
    print(f"load:     {load_line()}")
    cleanup = bench_database(require_postgres=True, name=args.database, reuse=args.reuse, deployed=True)
    try:
        return run(args)
    finally:
        cleanup(not args.keep)


def run(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from appeals.models import OPEN_STATUSES, Petition
    from governance.demo import USERNAME_PREFIX
    from governance.models import Role
    from grids.models import Area, AreaLevel
    from residents.models import Resident, ResidentTag, Tag

    if Resident.objects.count() != args.rows:
        if Resident.objects.exists():
            sys.exit(f"{args.database} holds another data set; run without --reuse to re-create it.")
        seed(args)
    if not Petition.objects.exists():
        seed_petitions()
    print(
        f"database: {database_label()}, {Resident.objects.count():,} residents, "
        f"{ResidentTag.objects.count():,} resident tags, "
        f"{Petition.objects.filter(status__in=OPEN_STATUSES).count():,} open petitions"
    )
    if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # django.test.Client's host

    rng = random.Random(args.seed)
    User = get_user_model()
    role_of = {
        "community secretary": (Role.COMMUNITY_SECRETARY, AreaLevel.COMMUNITY),
        "street command": (Role.STREET_COMMAND, AreaLevel.STREET),
        "district centre": (Role.DISTRICT_CENTRE, AreaLevel.DISTRICT),
    }
    users = {}
    for label, (role, level) in role_of.items():
        codes = list(Area.objects.filter(level=level).order_by("code").values_list("code", flat=True))
        wanted = [f"{USERNAME_PREFIX[role]}{code}" for code in rng.sample(codes, min(USERS[label], len(codes)))]
        users[label] = list(User.objects.filter(username__in=wanted).order_by("username"))
    tag_ids = dict(Tag.objects.filter(community__isnull=True).values_list("code", "id"))
    most_users = max(len(role_users) for role_users in users.values())

    raw = connection.cursor().connection  # the psycopg connection: bare SQL, no Django in between

    def resident_queries(queries: list[dict]) -> list[str]:
        """The count, the page and the page's tags: the queries reading residents and their tags."""
        return [
            q["sql"]
            for q in queries
            if q["sql"].startswith("SELECT")
            and ('FROM "residents_resident"' in q["sql"] or 'FROM "residents_residenttag"' in q["sql"])
        ]

    def get(client: Client, url: str, status: int = 200) -> float:
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != status:
            sys.exit(f"GET {url} answered {response.status_code}: {response.content[:300]!r}")
        return elapsed

    def bare(statements: list[str]) -> float:
        started = time.perf_counter()
        for sql in statements:
            raw.execute(sql).fetchall()
        return (time.perf_counter() - started) * 1000

    def explain(sql: str) -> str:
        lines = [row[0] for row in raw.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}").fetchall()]
        return "\n            ".join(line if len(line) < 240 else line[:240] + " …" for line in lines[:24])

    goals = Goals()
    report: list[str] = []
    # The request's own cost, without any statement about residents (FLOOR_URL), sampled beside
    # every cell's samples; the refusal's warning line is not part of it.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    for condition_label, params in CONDITIONS:
        if args.only and args.only not in condition_label:
            continue
        query = dict(params)
        if "tags" in query:
            query["tags"] = [tag_ids[code] for code in query["tags"]]
        query_string = urlencode(query, doseq=True)
        for role_label, role_users in users.items():
            for endpoint, path in ENDPOINTS.items():
                url = f"{path}?{query_string}"
                samples: list[float] = []
                bare_samples: list[float] = []
                floor_samples: list[float] = []
                counts: set[int] = set()
                slowest: tuple[float, str] = (0.0, "")
                for user in role_users:
                    client = Client(**DEPLOYED_CLIENT)
                    client.force_login(user)
                    get(client, url)  # warm: templates, URL resolver, this user's first request
                    with CaptureQueriesContext(connection) as captured:
                        get(client, url)
                    counts.add(len(captured.captured_queries))
                    statements = resident_queries(captured.captured_queries)
                    for sql in statements:
                        started = time.perf_counter()
                        raw.execute(sql).fetchall()
                        slowest = max(slowest, ((time.perf_counter() - started) * 1000, sql))
                    # Interleaved: both sides see the same load.
                    get(client, FLOOR_URL, status=400)
                    for _ in range(runs_per_user(args.runs, len(role_users), most_users)):
                        samples.append(get(client, url))
                        bare_samples.append(bare(statements))
                        floor_samples.append(get(client, FLOOR_URL, status=400))
                p95, bare_p95 = percentile(samples, 0.95), percentile(bare_samples, 0.95)
                name = f"{condition_label} · {role_label} · {endpoint}"
                print(f"--- {name}: {len(role_users)} users, {sorted(counts)} queries per request")
                print(f"endpoint: {summary(samples)}")
                print(f"bare SQL: {summary(bare_samples)}  ({len(statements)} resident queries replayed)")
                floor_p50, bare_p50 = statistics.median(floor_samples), statistics.median(bare_samples)
                print(
                    f"floor:    p50 {floor_p50:.2f} + bare p50 {bare_p50:.2f} = {floor_p50 + bare_p50:.2f} ms, "
                    f"{(floor_p50 + bare_p50) / bare_p50:.2f} × the bare SQL before the {endpoint}'s own work"
                )
                goals.check(f"{name}: p95 < {P95_TARGET_MS:g} ms", p95 < P95_TARGET_MS, f"{p95:.1f} ms")
                goals.check(
                    f"{name}: p95 ≤ {RATIO_TARGET:g} × bare SQL",
                    p95 <= RATIO_TARGET * bare_p95,
                    f"{p95 / bare_p95:.2f} ×",
                )
                report.append(
                    f"| {condition_label} | {role_label} | {endpoint} | {statistics.median(samples):.1f} | {p95:.1f} | "
                    f"{statistics.median(bare_samples):.1f} | {bare_p95:.1f} | {p95 / bare_p95:.2f}× | "
                    f"{floor_p50:.1f} | {(floor_p50 + bare_p50) / bare_p50:.2f}× |"
                )
                if args.explain and slowest[1]:
                    shown = slowest[1] if len(slowest[1]) < 1500 else slowest[1][:1500] + " …"
                    print(f"slowest resident query ({slowest[0]:.1f} ms):\n            {shown}")
                    print(f"plan:       {explain(slowest[1])}")
    print(
        "\n| conditions | role | endpoint | p50 ms | p95 ms | bare p50 ms | bare p95 ms | p95 ratio "
        "| floor p50 ms | (floor + bare) / bare, p50 |"
    )
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print("\n".join(report))
    return goals.exit_code()


if __name__ == "__main__":
    sys.exit(main())
