"""Response and resolution times in working hours (median, p90), by tier and department.

Set-based: the working calendar becomes a small table of days (`cal`: day number, working seconds
before the day, working day or not), built by `governance.workcalendar` from the first petition's
day to the month's end. A moment's working-seconds position is the day's `cum` plus the working
time elapsed in that day (the working periods, arithmetic on the time of day); the time between
two moments is the difference of their positions. Rows join the table by day number (a hash
join): no per-row calendar walk. Percentiles are nearest-rank (the value at rank ⌈q·n⌉, no
interpolation), by window functions, so PostgreSQL and SQLite give the same figures.

- **Response time**: a round's `started_at` to its `responded_at` (acceptance, reporting in or the
  reply), for rounds that responded in the month; by the round's tier.
- **Resolution time**: the petition's submission (`created_at`) to the round's `resolved_at`, for
  rounds resolved in the month; by the resolving round's tier.
Departments: the petition's handling department (`handler_department`).
The calendar is the one in force when the report is generated.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.db import connection

from analytics.selectors.common import ReportScope, dialect, fetch
from governance.workcalendar import CALENDAR_TZ, is_workday, working_periods

DAY = 86400
LOCAL_OFFSET = 8 * 3600  # Asia/Shanghai: UTC+8 all year (no daylight saving)
EPOCH = date(1970, 1, 1)

TIMES_SQL = """
WITH cal(dayno, cum, work) AS (VALUES {calendar}),
month_rounds AS (
    SELECT r.tier, p.handler_department_id AS department, r.started_at, r.responded_at, p.created_at,
           r.resolved_at,
           CASE WHEN {responded_in_month} THEN 1 ELSE 0 END AS responded,
           CASE WHEN {resolved_in_month} THEN 1 ELSE 0 END AS resolved
    FROM appeals_handlinground r
    JOIN appeals_petition p ON p.id = r.petition_id
    WHERE {area} AND (({responded_in_month}) OR ({resolved_in_month}))
),
spans AS (
    SELECT 'response' AS kind, m.tier, m.department,
           {epoch_start} + {offset} AS t0, {epoch_responded} + {offset} AS t1
    FROM month_rounds m WHERE m.responded = 1
    UNION ALL
    SELECT 'resolution', m.tier, m.department, {epoch_created} + {offset}, {epoch_resolved} + {offset}
    FROM month_rounds m WHERE m.resolved = 1
),
days AS (
    SELECT kind, tier, department, t0, t1, {day0} AS d0, {day1} AS d1 FROM spans
),
worked AS (
    SELECT d.kind, d.tier, d.department,
           ((c1.cum + CASE WHEN c1.work = 1 THEN {within1} ELSE 0 END)
            - (c0.cum + CASE WHEN c0.work = 1 THEN {within0} ELSE 0 END)) / 3600.0 AS raw
    FROM days d
    JOIN cal c0 ON c0.dayno = d.d0
    JOIN cal c1 ON c1.dayno = d.d1
),
clamped AS (
    SELECT kind, tier, department, CASE WHEN raw < 0 THEN 0.0 ELSE raw END AS hours FROM worked
),
grouped AS (
    SELECT kind, 0 AS dim, 0 AS key, hours FROM clamped
    UNION ALL SELECT kind, 1, tier, hours FROM clamped
    UNION ALL SELECT kind, 2, department, hours FROM clamped WHERE department IS NOT NULL
),
ranked AS (
    SELECT kind, dim, key, hours,
           ROW_NUMBER() OVER (PARTITION BY kind, dim, key ORDER BY hours) AS rn,
           COUNT(*) OVER (PARTITION BY kind, dim, key) AS n
    FROM grouped
)
SELECT kind, dim, key, MAX(n),
       MIN(CASE WHEN rn = (n + 1) / 2 THEN hours END) AS median,
       MIN(CASE WHEN rn = (9 * n + 9) / 10 THEN hours END) AS p90
FROM ranked
GROUP BY kind, dim, key
"""
ALL, BY_TIER, BY_DEPARTMENT = 0, 1, 2


def _seconds(clock) -> int:
    return clock.hour * 3600 + clock.minute * 60 + clock.second


def _within_day(time_of_day: str) -> str:
    """Working seconds of a working day elapsed at `time_of_day` (seconds since local midnight)."""
    parts = []
    for opens, closes in working_periods():
        o, c = _seconds(opens), _seconds(closes)
        parts.append(
            f"CASE WHEN {time_of_day} <= {o} THEN 0 WHEN {time_of_day} >= {c} THEN {c - o} ELSE {time_of_day} - {o} END"
        )
    return "(" + " + ".join(parts) + ")"


def calendar_rows(first: date, last: date) -> list[tuple[int, int, int]]:
    """(day number since 1970-01-01, working seconds before the day, 1 if a working day) per day."""
    per_day = sum(_seconds(c) - _seconds(o) for o, c in working_periods())
    rows, cum, day = [], 0, first
    while day <= last:
        work = is_workday(day)
        rows.append(((day - EPOCH).days, cum, int(work)))
        cum += per_day if work else 0
        day += timedelta(days=1)
    return rows


def _first_day() -> date | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(created_at) FROM appeals_petition")
        (first,) = cursor.fetchone()
    if first is None:
        return None
    if isinstance(first, str):  # SQLite without converters
        first = datetime.fromisoformat(first)
    if first.tzinfo is None:
        first = first.replace(tzinfo=UTC)
    return first.astimezone(CALENDAR_TZ).date()


def time_rows(scope: ReportScope) -> list[tuple]:
    """(kind, dimension, key, count, median hours, p90 hours) of the month."""
    first = _first_day()
    if first is None:
        return []
    _start, end = scope.bounds()
    last = (end.astimezone(CALENDAR_TZ) + timedelta(days=1)).date()
    first = min(first, _start.date())
    calendar = ", ".join(f"({d}, {c}, {w})" for d, c, w in calendar_rows(first, last))
    sql_dialect = dialect()
    within = {}
    for i in (0, 1):
        within[i] = _within_day(f"(d.t{i} - d.d{i} * {DAY})")
    sql = TIMES_SQL.format(
        calendar=calendar,
        epoch_start=sql_dialect.epoch("m.started_at"),
        epoch_responded=sql_dialect.epoch("m.responded_at"),
        epoch_created=sql_dialect.epoch("m.created_at"),
        epoch_resolved=sql_dialect.epoch("m.resolved_at"),
        offset=LOCAL_OFFSET,
        area=scope.area_condition,
        responded_in_month=scope.in_month("r.responded_at"),
        resolved_in_month=scope.in_month("r.resolved_at"),
        day0=sql_dialect.floor_int(f"t0 / {DAY}"),
        day1=sql_dialect.floor_int(f"t1 / {DAY}"),
        within0=within[0],
        within1=within[1],
    )
    return fetch(sql, scope.params())
