"""Every figure of a report against an independent computation over the raw rows.

The data set is fixed: the demo's history generator (`appeals.demo.seed_history`, which applies
each petition's story as the services would and derives rounds and ratings with
`appeals.history.replay`) over the test district, run with the clock frozen: two years of
history, so each month has last month and last year. It holds returns, re-routings,
reopenings, extensions, escalations by hand and on deadline, whistles to departments,
call-backs and repeat complaints. The reference below reads the rows with the ORM and counts in
plain Python: subtrees by path prefix, units below by the handling area's path (not the level
columns and tier cut-off the SQL uses), working time by `governance.workcalendar`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from analytics.selectors.report import report_figures
from appeals.demo import seed_history
from appeals.models import Category, HandlingRound, Petition, PetitionEvent, PetitionRating
from governance import demo as governance_demo
from governance.workcalendar import working_time_between
from grids.models import Area

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 11, 20, 10, tzinfo=SH)
COUNTED = {
    "escalated",
    "auto_escalated",
    "supervised",
    "returned",
    "extension_asked",
    "extension_granted",
    "extension_refused",
}


def bounds(year: int, month: int) -> tuple[datetime, datetime]:
    following = (year + 1, 1) if month == 12 else (year, month + 1)
    return datetime(year, month, 1, tzinfo=SH), datetime(*following, 1, tzinfo=SH)


def periods(year: int, month: int) -> list[tuple[datetime, datetime]]:
    prev = (year - 1, 12) if month == 1 else (year, month - 1)
    return [bounds(year, month), bounds(*prev), bounds(year - 1, month)]


def period_of(moment, spans) -> int | None:
    if moment is None:
        return None
    for index, (start, end) in enumerate(spans):
        if start <= moment < end:
            return index
    return None


@pytest.fixture
def history(tree, settings):
    settings.SATISFACTION_BASIC_WEIGHT = 0.8
    governance_demo.seed_departments(tree.district)
    with time_machine.travel(NOW, tick=False):
        seed_history(seed=7, scale=0.03)
    return tree


def _rate(numerator, denominator):
    if not denominator:
        return None
    return round(float(Decimal(numerator) / denominator), 4)


def nearest_rank(values: list[float], q: int) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    n = len(ordered)
    return ordered[-(-q * n // 100) - 1]


def reference(area: Area, year: int, month: int, *, now: datetime, weight: float) -> dict:
    """The flat figures of the area's month, counted in Python over the rows."""
    spans = periods(year, month)
    children = list(Area.objects.filter(parent=area).order_by("path"))
    paths = dict(Area.objects.values_list("pk", "path"))
    categories = {c.pk: c for c in Category.objects.all()}
    petitions = {p.pk: p for p in Petition.objects.all() if p.area_path.startswith(area.path)}

    def child_of_path(path):
        for child in children:
            if path and path.startswith(child.path):
                return child.code
        return None

    out: dict = {}

    def add(key, period, amount=1):
        out.setdefault(key, [0, 0, 0])[period] += amount

    for p in petitions.values():
        period = period_of(p.created_at, spans)
        if period is None:
            continue
        add(("volume.total",), period)
        add(("volume.by_channel", p.channel), period)
        sub = categories.get(p.category_id)
        if sub is None:
            add(("volume.by_class", "none"), period)
        else:
            parent = categories[sub.parent_id]
            add(("volume.by_class", parent.code), period)
            add(("volume.by_class", parent.code, sub.code), period)
            add(("categories", sub.code), period)
        add(("volume.by_unit", child_of_path(p.area_path)), period)
        add(("volume.by_need", p.need_type), period)
        if p.repeat_of_id:
            add(("repeats.count",), period)
            add(("repeats.by_unit", child_of_path(p.area_path)), period)
            add(("repeats.by_category", sub.code if sub else "none"), period)

    for e in PetitionEvent.objects.filter(petition_id__in=petitions):
        period = period_of(e.created_at, spans)
        if period is None:
            continue
        if e.type in COUNTED:
            add(("events", e.type), period)
        if e.on_time is False:
            add(("overdue",), period)
            add(("overdue.by_unit", child_of_path(petitions[e.petition_id].area_path)), period)
        if e.type == "returned" and e.extra.get("department_id"):
            add(("returns.by_department", e.extra["department_id"]), period)
        if e.type == "resolved":
            add(("volume.by_closing_tier", e.to_tier), period)

    rounds = {(r.petition_id, r.number): r for r in HandlingRound.objects.filter(petition_id__in=petitions)}
    rates: dict = defaultdict(lambda: [[0, 0], [0, 0], [0, 0]])
    for r in rounds.values():
        period = period_of(r.accept_due_at, spans)
        if period is None or r.end_event in ("returned", "merged"):
            continue
        if r.accept_due_at > now and r.accepted_at is None:
            continue
        on_time = int(r.accepted_at is not None and r.accepted_at <= r.accept_due_at)
        p = petitions[r.petition_id]
        unit = child_of_path(paths.get(r.handler_area_id))
        for key in [("all",), ("tier", r.tier), ("unit", unit), ("department", p.handler_department_id)]:
            if key[-1] is None and len(key) > 1:
                continue
            rates[("response", *key)][period][0] += on_time
            rates[("response", *key)][period][1] += 1

    ratings = list(PetitionRating.objects.filter(petition_id__in=petitions).order_by("rated_at", "id"))
    newest: dict = {}
    for rt in ratings:
        period = period_of(rt.rated_at, spans)
        if period is None:
            continue
        newest[(period, rt.petition_id)] = rt  # ordered: the last one wins
    latest_ids = {rt.pk for rt in newest.values()}
    counts: dict = defaultdict(lambda: [defaultdict(int), defaultdict(int), defaultdict(int)])
    for rt in ratings:
        period = period_of(rt.rated_at, spans)
        if period is None:
            continue
        r = rounds.get((rt.petition_id, rt.round_number))
        p = petitions[rt.petition_id]
        unit = child_of_path(paths.get(r.handler_area_id)) if r else None
        keys = [("all",), ("tier", r.tier if r else None), ("unit", unit), ("department", p.handler_department_id)]
        for key in keys:
            if key[-1] is None and len(key) > 1:
                continue
            counts[("every", *key)][period][rt.rating] += 1
            if rt.pk in latest_ids:
                counts[("latest", *key)][period][rt.rating] += 1
    for key, per in counts.items():
        if key[0] != "latest":
            continue
        for period, c in enumerate(per):
            rated = c["satisfied"] + c["basic"] + c["unsatisfied"]
            rates[("resolution", *key[1:])][period] = [c["satisfied"] + c["basic"], rated]
            rates[("satisfaction", *key[1:])][period] = [c["satisfied"] + weight * c["basic"], rated]
    for period, c in enumerate(counts[("every", "all")]):
        rated = c["satisfied"] + c["basic"] + c["unsatisfied"]
        rates[("satisfaction_every_round", "all")][period] = [c["satisfied"] + weight * c["basic"], rated]
        add(("disputes",), period, c["unsatisfied"])
    for key, per in rates.items():
        out[("rate", *key)] = tuple(_rate(n, d) for n, d in per) + (round(float(per[0][0]), 4), per[0][1])

    start, end = spans[0]
    samples: dict = defaultdict(list)
    for r in rounds.values():
        p = petitions[r.petition_id]
        spans_of = [("response", r.started_at, r.responded_at), ("resolution", p.created_at, r.resolved_at)]
        for kind, begin, finish in spans_of:
            if finish is None or not start <= finish < end:
                continue
            hours = working_time_between(begin, finish).total_seconds() / 3600
            for key in [("all",), ("tier", r.tier), ("department", p.handler_department_id)]:
                if key[-1] is not None:
                    samples[(kind, *key)].append(hours)
    for key, values in samples.items():
        out[("time", *key)] = (
            round(nearest_rank(values, 50), 4),
            round(nearest_rank(values, 90), 4),
            len(values),
        )
    return {
        key: tuple(value) if isinstance(value, list) else value
        for key, value in out.items()
        if _nonzero(value) and key[-1] is not None  # a unit below is named, or the row is no unit's
    }


def _nonzero(value) -> bool:
    return any(v not in (0, None) for v in value)


def _counts(fig) -> tuple:
    return (fig["value"], fig["prev"], fig["last_year"])


def _rate_tuple(fig) -> tuple:
    return (fig["value"], fig["prev"], fig["last_year"], fig["numerator"], fig["denominator"])


def flatten(figures: dict) -> dict:
    """The report's figures in the reference's flat shape (zero entries dropped on both sides)."""
    out: dict = {}
    volume = figures["volume"]
    out[("volume.total",)] = _counts(volume["total"])
    for entry in volume["by_channel"]:
        out[("volume.by_channel", entry["key"])] = _counts(entry["count"])
    for entry in volume["by_class"]:
        out[("volume.by_class", entry["key"])] = _counts(entry["count"])
        for child in entry["children"]:
            out[("volume.by_class", entry["key"], child["key"])] = _counts(child["count"])
            out[("categories", child["key"])] = _counts(child["count"])
    for entry in volume["by_unit"]:
        out[("volume.by_unit", entry["unit"]["code"])] = _counts(entry["count"])
    for entry in volume["by_need"]:
        out[("volume.by_need", entry["key"])] = _counts(entry["count"])
    for entry in volume["by_closing_tier"]:
        out[("volume.by_closing_tier", entry["key"])] = _counts(entry["count"])
    repeats = figures["repeats"]
    out[("repeats.count",)] = _counts(repeats["count"])
    for entry in repeats["by_unit"]:
        out[("repeats.by_unit", entry["unit"]["code"])] = _counts(entry["count"])
    for entry in repeats["by_category"]:
        out[("repeats.by_category", entry["key"])] = _counts(entry["count"])
    overdue = figures["overdue"]
    out[("overdue",)] = _counts(overdue["overdue"])
    for key in ("escalated", "auto_escalated", "supervised"):
        out[("events", key)] = _counts(overdue[key])
    for entry in overdue["by_unit"]:
        out[("overdue.by_unit", entry["unit"]["code"])] = _counts(entry["count"])
    out[("events", "returned")] = _counts(figures["returns"]["returns"])
    out[("disputes",)] = _counts(figures["returns"]["disputes"])
    for entry in figures["returns"]["by_department"]:
        out[("returns.by_department", entry["unit"]["id"])] = _counts(entry["count"])
    for key in ("asked", "granted", "refused"):
        out[("events", f"extension_{key}")] = _counts(figures["extensions"][key])
    rates = figures["rates"]
    for name in ("response", "resolution", "satisfaction"):
        out[("rate", name, "all")] = _rate_tuple(rates[name])
        for entry in rates["by_tier"]:
            out[("rate", name, "tier", entry["key"])] = _rate_tuple(entry[name])
        for entry in rates["by_unit"]:
            out[("rate", name, "unit", entry["unit"]["code"])] = _rate_tuple(entry[name])
        for entry in rates["by_department"]:
            out[("rate", name, "department", entry["unit"]["id"])] = _rate_tuple(entry[name])
    out[("rate", "satisfaction_every_round", "all")] = _rate_tuple(rates["satisfaction_every_round"])
    times = figures["times"]

    def summary(value):
        return (value["median"], value["p90"], value["count"])

    for kind in ("response", "resolution"):
        out[("time", kind, "all")] = summary(times[f"{kind}_hours"])
        for entry in times["by_tier"]:
            out[("time", kind, "tier", entry["key"])] = summary(entry[f"{kind}_hours"])
        for entry in times["by_department"]:
            out[("time", kind, "department", entry["unit"]["id"])] = summary(entry[f"{kind}_hours"])
    return {key: value for key, value in out.items() if _nonzero(value)}


@pytest.mark.parametrize(
    "code,year,month",
    [
        ("D", 2025, 10),  # National Day holiday (1-8 October) in the month
        ("D", 2025, 1),  # January: the month before is last year's December
        ("DS0", 2025, 6),
        ("DS1C0", 2025, 9),
        ("DS0C1G1", 2025, 8),
        ("DS0C0G0M1", 2025, 10),
    ],
)
def test_every_figure_matches_a_plain_count_of_the_rows(history, code, year, month):
    area = history[code]
    figures = report_figures(area, year, month, now=NOW)
    expected = reference(area, year, month, now=NOW, weight=0.8)
    actual = flatten(figures)
    assert expected[("volume.total",)][0] > 0
    assert sorted(actual) == sorted(expected)
    for key in expected:
        assert actual[key] == expected[key], key


def test_each_category_carries_its_count_two_months_back(history):
    """`prev2` (for the rule "rising two months running") is a plain count of the month before last."""
    area = history["D"]
    figures = report_figures(area, 2025, 10, now=NOW)
    start, end = bounds(2025, 8)
    entries = [e for name in ("top", "risers", "fallers", "seasonal") for e in figures["categories"][name]]
    assert entries
    for entry in entries:
        received = Petition.objects.filter(created_at__gte=start, created_at__lt=end)
        if entry["key"] == "none":
            received = received.filter(category__isnull=True)
        else:
            received = received.filter(category__code=entry["key"])
        assert entry["count"]["prev2"] == received.count(), entry["key"]


# --- The report's planner settings and covering index (PostgreSQL) ---------------------------------


@pytest.mark.postgres
def test_every_statement_joining_petitions_runs_under_the_reports_settings_and_can_read_the_covering_index(
    history,
):
    """A district's figure statements (report-core's and the hotspots') run in transactions that set
    the report's random_page_cost and work_mem (analytics.selectors.common.analytic_session), and
    each reads only petition columns that appeals_pet_scope_units holds (its key and INCLUDE columns),
    so a district's statements can read the petitions from that index alone."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from analytics.services.reports import build_figures

    with CaptureQueriesContext(connection) as captured:
        build_figures(history["D"], 2025, 10, now=NOW)
    joining, settings_in_force = [], False
    for query in captured.captured_queries:
        sql = query["sql"]
        if sql.startswith("SET LOCAL random_page_cost"):
            settings_in_force = True
        elif sql in ("COMMIT", "ROLLBACK") or sql.startswith("RELEASE SAVEPOINT"):
            settings_in_force = False  # each block of statements sets them itself
        elif "JOIN appeals_petition p" in sql:
            assert settings_in_force, sql[:200]
            joining.append(sql)
    assert len(joining) >= 6  # events, response, ratings, times; the hotspots' overdue and unsatisfied
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE c.relname = 'appeals_pet_scope_units'"
        )
        covered = {row[0] for row in cursor.fetchall()}
    assert {"area_path", "created_at", "id", "street_id", "handler_department_id"} <= covered
    for sql in joining:
        read = set(re.findall(r"\bp\.([a-z_]+)", sql))
        assert read and read <= covered, (sorted(read - covered), sql[:200])
