"""The monthly report over a year of 1,000,000 petitions, against its bare SQL (PostgreSQL only).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/governance \
        .venv/bin/python bench/monthly_report.py [--rows 1000000] [--reuse] [--keep]

Seeds its own database (`gov_bench_report`, beside the one DATABASE_URL names, which is never
touched): the demo district (grids.demo: 22 streets, 7,082 micro-grids), its departments and the
category taxonomy, then N petitions over the year before 1 December 2026 with their history,
written by INSERT … SELECT over generate_series (no Python loop over rows):
- every petition: submitted, routed, accepted (a fifth late), resolved, most rated, closed;
- a tenth escalated to the community (a second round), a fiftieth on to the street and
  whistled to a department; a thirty-third returned by the grid and re-routed;
- ratings for 80 % (5 % 不满意, 10 % 基本满意, a seventh by call-back); extensions, supervision
  and repeat complaints sprinkled in; events for every step with their `on_time`.
`--reuse` keeps an already seeded database; `--keep` leaves it for the next run.

Measured, in the same run, RUNS times each (the median is compared):
- report: `build_figures` (every section: report-core's figures, insight's hotspots and the
  narrative) for the district's November 2026 and for its largest street;
- bare: the SQL statements that report ran (captured once), replayed on the raw psycopg cursor:
  the same aggregates without Django or Python assembly.
Goals: the district's report < 5 s and ≤ 2 × its bare SQL; a street's report < 1 s.
Exits 1 on a miss. Prints the load, the main figures and the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Goals, bench_database, database_label, load_line, seed_district

DATABASE = "gov_bench_report"
RUNS = 3
DISTRICT_GOAL_S = 5.0
STREET_GOAL_S = 1.0
RATIO_GOAL = 2.0
SH = ZoneInfo("Asia/Shanghai")
END = datetime(2026, 12, 1, tzinfo=SH)  # the year of petitions ends here
NOW = datetime(2026, 12, 1, 2, tzinfo=SH)  # the report is made at 02:00 on the 1st
YEAR, MONTH = 2026, 11

PLACES_SQL = """
CREATE TEMP TABLE bench_places AS
SELECT ROW_NUMBER() OVER (ORDER BY m.path) AS n, m.id AS microgrid_id, g.id AS grid_id,
       c.id AS community_id, s.id AS street_id, m.path
FROM grids_area m
JOIN grids_area g ON g.id = m.parent_id
JOIN grids_area c ON c.id = g.parent_id
JOIN grids_area s ON s.id = c.parent_id
WHERE m.level = 5
"""

PETITIONS_SQL = """
WITH places AS (SELECT count(*) AS total FROM bench_places),
     cats AS (SELECT array_agg(id ORDER BY code) AS ids FROM appeals_category WHERE parent_id IS NOT NULL),
     depts AS (SELECT array_agg(id ORDER BY code) AS ids FROM governance_department),
     spec AS (
        SELECT g,
               %(start)s::timestamptz + (g - 1) * (%(span)s::interval / %(rows)s) AS created,
               1 + (g * 7919) %% (SELECT total FROM places) AS place
        FROM generate_series(1::bigint, %(rows)s::bigint) AS g
     )
INSERT INTO appeals_petition (
    id, tracking_no, access_token, channel, external_ref, contact_name, contact_phone, title, description,
    category_id, need_type, urgency, handling_mode, address, microgrid_id, grid_id, community_id, street_id,
    area_path, status, tier, handler_area_id, handler_department_id, escalated_on_deadline, supervised,
    urge_count, accepted_at, first_response_at, resolved_at, closed_at, reply, rating, rated_at, reopen_count,
    round_count, repeat_of_id, repeat_count, sweep_error, created_at, updated_at
)
SELECT s.g, 'B' || lpad(s.g::text, 11, '0'), 'bench-' || s.g,
       (ARRAY['mobile','mobile','mobile','hotline','hotline','patrol','doorplate','staff'])[1 + s.g %% 8],
       '', '', '', '诉求', '诉求', cats.ids[1 + (s.g * 31) %% cardinality(cats.ids)],
       CASE WHEN s.g %% 5 = 0 THEN 'common' ELSE 'individual' END, 'normal', 'fast', '',
       p.microgrid_id, p.grid_id, p.community_id, p.street_id, p.path, 'closed',
       CASE WHEN s.g %% 50 = 0 THEN 3 WHEN s.g %% 10 = 0 THEN 2 ELSE 1 END,
       CASE WHEN s.g %% 50 = 0 THEN p.street_id WHEN s.g %% 10 = 0 THEN p.community_id ELSE p.grid_id END,
       CASE WHEN s.g %% 50 = 0 THEN depts.ids[1 + (s.g / 50) %% cardinality(depts.ids)] END,
       false, s.g %% 200 = 0, 0, s.created, s.created, s.created, s.created, '', '', NULL, 0,
       1, CASE WHEN s.g %% 20 = 0 AND s.g > 1 THEN s.g - 1 END, 0, '', s.created, s.created
FROM spec s JOIN bench_places p ON p.n = s.place, cats, depts
"""

# Round 1 at the grid for everyone; a thirty-third returned before accepting (re-routed: round 2
# at the grid); a tenth escalated after accepting (round 2 at the community); a fiftieth
# escalated again (round 3 at the street, whistled to the department).
ROUNDS_SQL = """
INSERT INTO appeals_handlinground (
    petition_id, number, tier, handler_area_id, started_at, start_event, accept_due_at, accepted_at,
    responded_at, handle_due_at, resolved_at, ended_at, end_event
)
SELECT p.id, 1, 1, p.grid_id, p.created_at + interval '1 minute', 'routed',
       p.created_at + interval '121 minutes',
       CASE WHEN p.id %% 33 = 0 THEN NULL ELSE p.created_at + interval '1 minute' + ((p.id * 13) %% 150) * interval '1 minute' END,
       CASE WHEN p.id %% 33 = 0 THEN NULL ELSE p.created_at + interval '1 minute' + ((p.id * 13) %% 150) * interval '1 minute' END,
       p.created_at + interval '3 days',
       CASE WHEN p.id %% 33 = 0 OR p.id %% 10 = 0 THEN NULL
            ELSE p.created_at + interval '3 hours' + ((p.id * 17) %% 2880) * interval '1 minute' END,
       CASE WHEN p.id %% 33 = 0 THEN p.created_at + interval '10 minutes'
            WHEN p.id %% 10 = 0 THEN p.created_at + interval '4 hours' END,
       CASE WHEN p.id %% 33 = 0 THEN 'returned' WHEN p.id %% 10 = 0 THEN 'escalated' ELSE '' END
FROM appeals_petition p
UNION ALL
SELECT p.id, 2, CASE WHEN p.id %% 10 = 0 THEN 2 ELSE 1 END,
       CASE WHEN p.id %% 10 = 0 THEN p.community_id ELSE p.grid_id END,
       p.created_at + CASE WHEN p.id %% 10 = 0 THEN interval '4 hours' ELSE interval '30 minutes' END,
       CASE WHEN p.id %% 10 = 0 THEN 'escalated' ELSE 'rerouted' END,
       p.created_at + interval '8 hours', p.created_at + interval '5 hours', p.created_at + interval '5 hours',
       p.created_at + interval '5 days',
       CASE WHEN p.id %% 50 = 0 THEN NULL ELSE p.created_at + interval '2 days' + ((p.id * 7) %% 600) * interval '1 minute' END,
       CASE WHEN p.id %% 50 = 0 THEN p.created_at + interval '1 day' END,
       CASE WHEN p.id %% 50 = 0 THEN 'escalated' ELSE '' END
FROM appeals_petition p WHERE p.id %% 33 = 0 OR p.id %% 10 = 0
UNION ALL
SELECT p.id, 3, 3, p.street_id, p.created_at + interval '1 day', 'escalated',
       p.created_at + interval '1 day 4 hours', p.created_at + interval '1 day 1 hour',
       p.created_at + interval '1 day 1 hour', p.created_at + interval '8 days',
       p.created_at + interval '4 days', NULL, ''
FROM appeals_petition p WHERE p.id %% 50 = 0 AND p.id %% 33 <> 0
"""

RATINGS_SQL = """
INSERT INTO appeals_petitionrating (petition_id, round_number, rating, source, rated_at, is_latest)
SELECT r.petition_id, r.number,
       CASE WHEN r.petition_id %% 20 = 0 THEN 'unsatisfied' WHEN r.petition_id %% 20 IN (1, 2) THEN 'basic' ELSE 'satisfied' END,
       CASE WHEN r.petition_id %% 7 = 0 THEN 'callback' ELSE 'resident' END,
       r.resolved_at + interval '3 hours', true
FROM appeals_handlinground r
WHERE r.resolved_at IS NOT NULL AND r.petition_id %% 10 < 8
"""

# One statement per step kind; statuses are legal moves (the event table's check constraint).
EVENTS_SQL = [
    """INSERT INTO appeals_petitionevent (petition_id, type, actor_label, from_status, to_status, to_tier, note, extra, created_at)
       SELECT id, 'submitted', 'resident', '', 'submitted', NULL, '', '{}', created_at FROM appeals_petition""",
    """INSERT INTO appeals_petitionevent (petition_id, type, actor_label, from_status, to_status, to_tier, note, extra, created_at)
       SELECT id, 'routed', 'system', 'submitted', 'assigned', 1, '', '{}', created_at + interval '1 minute' FROM appeals_petition""",
    """INSERT INTO appeals_petitionevent (petition_id, type, actor_label, from_status, to_status, to_tier, note, extra,
                                          created_at, deadline_in_force, on_time)
       SELECT petition_id, 'accepted', '', 'assigned', 'accepted', tier, '', '{}', accepted_at, accept_due_at,
              accepted_at <= accept_due_at
       FROM appeals_handlinground WHERE accepted_at IS NOT NULL""",
    """INSERT INTO appeals_petitionevent (petition_id, type, actor_label, from_status, to_status, from_tier, to_tier,
                                          note, extra, created_at, on_time)
       SELECT petition_id, 'escalated', '', 'accepted', 'assigned', tier, tier + 1, '', '{}', ended_at, true
       FROM appeals_handlinground WHERE end_event = 'escalated'""",
    """INSERT INTO appeals_petitionevent (petition_id, type, actor_label, from_status, to_status, to_tier, note, extra, created_at, on_time)
       SELECT petition_id, 'returned', '', 'assigned', 'returned', 2, '', '{}', ended_at, true
       FROM appeals_handlinground WHERE end_event = 'returned'""",
    """INSERT INTO appeals_petitionevent (petition_id, type, actor_label, from_status, to_status, to_tier, note, extra,
                                          created_at, deadline_in_force, on_time)
       SELECT petition_id, 'resolved', '', 'accepted', 'resolved', tier, '', '{}', resolved_at, handle_due_at,
              resolved_at <= handle_due_at
       FROM appeals_handlinground WHERE resolved_at IS NOT NULL""",
    """INSERT INTO appeals_petitionevent (petition_id, type, actor_label, from_status, to_status, note, extra, created_at)
       SELECT petition_id, 'rated', 'resident', 'resolved', 'closed', '', '{}', rated_at FROM appeals_petitionrating""",
    """INSERT INTO appeals_petitionevent (petition_id, type, actor_label, from_status, to_status, note, extra, created_at)
       SELECT id, kind, '', 'accepted', 'accepted', '', '{}'::jsonb, created_at + interval '2 hours'
       FROM appeals_petition, (VALUES ('extension_asked'), ('extension_granted')) AS k(kind) WHERE id %% 100 = 0
       UNION ALL
       SELECT id, 'supervised', '', 'accepted', 'accepted', '', '{}', created_at + interval '3 hours'
       FROM appeals_petition WHERE id %% 200 = 0""",
]


def seed(args: argparse.Namespace) -> None:
    from django.db import connection

    from appeals.taxonomy import categories_link_departments, categories_seed
    from governance import demo as governance_demo

    started = time.perf_counter()
    district = seed_district(args.seed)
    governance_demo.seed_departments(district)
    categories_seed()
    categories_link_departments(district_code=district.code)
    span_start = END.replace(year=END.year - 1)
    params = {"start": span_start, "span": "365 days", "rows": args.rows}
    with connection.cursor() as cursor:
        cursor.execute(PLACES_SQL)
        steps = [("petitions", PETITIONS_SQL), ("rounds", ROUNDS_SQL), ("ratings", RATINGS_SQL)]
        steps += [(f"events {i + 1}", sql) for i, sql in enumerate(EVENTS_SQL)]
        for label, sql in steps:
            began = time.perf_counter()
            cursor.execute(sql, params)
            print(f"seed:     {label:<10} {cursor.rowcount:>10,} rows in {time.perf_counter() - began:6.1f} s")
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('appeals_petition', 'id'), (SELECT max(id) FROM appeals_petition))"
        )
        cursor.execute(
            "UPDATE appeals_petition p SET round_count = r.n FROM "
            "(SELECT petition_id, max(number) AS n FROM appeals_handlinground GROUP BY 1) r "
            "WHERE r.petition_id = p.id AND r.n > 1"
        )
        cursor.execute("VACUUM ANALYZE")
    print(f"seed:     done in {time.perf_counter() - started:.1f} s")


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


def _timed(function, runs: int) -> tuple[float, object]:
    samples, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = function()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples), result


def run(args: argparse.Namespace) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from analytics.services.reports import build_figures
    from appeals.models import Petition
    from grids.models import Area, AreaLevel

    if not (args.reuse and Petition.objects.exists()):
        seed(args)
    print(f"database: {database_label()}, {Petition.objects.count():,} petitions")
    district = Area.objects.get(level=AreaLevel.DISTRICT)
    with connection.cursor() as cursor:
        cursor.execute("SELECT street_id FROM appeals_petition GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
        street = Area.objects.get(pk=cursor.fetchone()[0])  # the largest street
    goals = Goals()

    def report(area):
        return lambda: build_figures(area, YEAR, MONTH, now=NOW)

    def bare(statements):
        raw = connection.connection  # the psycopg connection under Django's wrapper

        def replay():
            # One transaction, as the report's: its SET LOCAL work_mem applies to the aggregates too.
            with raw.transaction(), raw.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)
                    if cursor.description is not None:
                        cursor.fetchall()

        return replay

    for label, area, goal in (("district", district, DISTRICT_GOAL_S), ("street", street, STREET_GOAL_S)):
        build_figures(area, YEAR, MONTH, now=NOW)  # warm: caches, plans, the calendar
        with CaptureQueriesContext(connection) as captured:
            figures = build_figures(area, YEAR, MONTH, now=NOW)
        statements = [q["sql"] for q in captured.captured_queries]
        report_s, _ = _timed(report(area), args.runs)
        bare_s, _ = _timed(bare(statements), args.runs)
        ratio = report_s / bare_s if bare_s else float("inf")
        rates = figures["rates"]
        print(
            f"{label}:  {area.name} {figures['month']}: {figures['volume']['total']['value']:,} petitions "
            f"(prev {figures['volume']['total']['prev']:,}); response {rates['response']['value']} "
            f"({rates['response']['numerator']:.0f}/{rates['response']['denominator']:,}), resolution "
            f"{rates['resolution']['value']}, satisfaction {rates['satisfaction']['value']}; response time median "
            f"{figures['times']['response_hours']['median']} h, p90 {figures['times']['response_hours']['p90']} h"
        )
        print(
            f"{label}:  report {report_s * 1000:8.1f} ms  bare SQL {bare_s * 1000:8.1f} ms "
            f"({len(statements)} statements)  ratio {ratio:.2f}  (median of {args.runs})"
        )
        goals.check(f"{label} report < {goal:.0f} s", report_s < goal, f"{report_s:.2f} s")
        if label == "district":
            goals.check(f"district report <= {RATIO_GOAL:.0f} x bare SQL", ratio <= RATIO_GOAL, f"{ratio:.2f}")
    return goals.exit_code()


if __name__ == "__main__":
    sys.exit(main())
