"""What every figure statement shares: the three periods, the area's scope, portable SQL pieces.

Each figure family is one set-based statement that reads the month, the month before and the
same month a year earlier in one pass: a `period` column (0, 1, 2) says which of the three a row
belongs to, and the WHERE clause is the union of the three ranges (each served by the family's
time index). The area is its subtree through the petition's level columns (`street_id`,
`community_id`, `grid_id`, `microgrid_id`, each led by an index; a district by `area_path LIKE`).
Statements run on PostgreSQL and on SQLite (the demo database), so the few functions that differ
between them come from `Dialect`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db import connection
from django.utils import timezone

from governance.workcalendar import CALENDAR_TZ
from grids.models import Area, AreaLevel

MONTH, PREV, LAST_YEAR = 0, 1, 2
PERIOD_KEYS = ("value", "prev", "last_year")

# The petition's column holding its area of each level (the area's subtree is `column = area.id`).
LEVEL_COLUMNS = {
    AreaLevel.STREET: "street_id",
    AreaLevel.COMMUNITY: "community_id",
    AreaLevel.GRID: "grid_id",
    AreaLevel.MICROGRID: "microgrid_id",
}
# The level of the units a report ranks below its area, and the highest handling tier inside one of
# them: rounds of tiers up to it were handled inside the unit the petition lies in (a street
# handles tiers 1-3, a community 1-2, a grid 1; micro-grids handle nothing).
CHILD_TIER = {AreaLevel.DISTRICT: 3, AreaLevel.STREET: 2, AreaLevel.COMMUNITY: 1, AreaLevel.GRID: 0}


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """[start, end) of a calendar month in Beijing time, as aware datetimes (midnight to midnight)."""
    start = datetime.combine(date(year, month, 1), time(0), tzinfo=CALENDAR_TZ)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return start, datetime.combine(following, time(0), tzinfo=CALENDAR_TZ)


def previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def report_months(year: int, month: int) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """The month, the month before and the same month a year earlier (periods 0, 1, 2)."""
    return (year, month), previous_month(year, month), (year - 1, month)


@dataclass(frozen=True)
class Dialect:
    vendor: str

    def epoch(self, column: str) -> str:
        """Seconds since 1970-01-01 UTC of a timestamp column, as a float."""
        if self.vendor == "postgresql":
            return f"date_part('epoch', {column})"
        return f"((julianday({column}) - 2440587.5) * 86400.0)"

    def floor_int(self, expression: str) -> str:
        if self.vendor == "postgresql":
            return f"floor({expression})::bigint"
        return f"CAST({expression} AS INTEGER)"  # non-negative here: truncation is the floor

    def json_int(self, column: str, key: str) -> str:
        if self.vendor == "postgresql":
            return f"({column}->>'{key}')::bigint"
        return f"CAST(json_extract({column}, '$.{key}') AS INTEGER)"


def dialect() -> Dialect:
    return Dialect(connection.vendor)


def moment(value: datetime) -> Any:
    """A datetime as the backend stores it (SQLite compares UTC text), so raw SQL compares like the ORM."""
    return connection.ops.adapt_datetimefield_value(value)


@dataclass(frozen=True)
class ReportScope:
    """One area and month: the SQL pieces and parameters every figure statement uses."""

    area: Area
    year: int
    month: int
    now: datetime

    @classmethod
    def of(cls, area: Area, year: int, month: int, now: datetime | None = None) -> ReportScope:
        return cls(area=area, year=year, month=month, now=now or timezone.now())

    @property
    def area_condition(self) -> str:
        """Petitions (alias `p`) located in the area's subtree."""
        column = LEVEL_COLUMNS.get(self.area.level)
        if column is None:
            return "p.area_path LIKE %(subtree)s"
        return f"p.{column} = %(area_id)s"

    @property
    def child_column(self) -> str | None:
        """The petition's column naming the unit one level below the area (None for a micro-grid)."""
        return LEVEL_COLUMNS.get(self.area.level + 1)

    def child_by_location(self) -> str:
        return f"p.{self.child_column}" if self.child_column else "NULL"

    def child_by_round(self, tier: str) -> str:
        """The unit below the area that handled a round of tier `tier`: the unit the petition lies
        in when the round's tier is handled inside it, else none (the area itself or above)."""
        cutoff = CHILD_TIER.get(self.area.level, 0)
        if not self.child_column or not cutoff:
            return "NULL"
        return f"CASE WHEN {tier} <= {cutoff} THEN p.{self.child_column} END"

    def period(self, column: str) -> str:
        """0, 1 or 2: which of the three months `column` falls in."""
        cases = " ".join(
            f"WHEN {column} >= %(start{i})s AND {column} < %(end{i})s THEN {i}" for i in (MONTH, PREV, LAST_YEAR)
        )
        return f"CASE {cases} END"

    def in_periods(self, column: str) -> str:
        ranges = " OR ".join(f"({column} >= %(start{i})s AND {column} < %(end{i})s)" for i in (MONTH, PREV, LAST_YEAR))
        return f"({ranges})"

    def in_month(self, column: str) -> str:
        return f"{column} >= %(start{MONTH})s AND {column} < %(end{MONTH})s"

    def bounds(self, period: int = MONTH) -> tuple[datetime, datetime]:
        return month_bounds(*report_months(self.year, self.month)[period])

    def params(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "subtree": f"{self.area.path}%",
            "area_id": self.area.pk,
            "now": moment(self.now),
        }
        for i, (year, month) in enumerate(report_months(self.year, self.month)):
            start, end = month_bounds(year, month)
            values[f"start{i}"], values[f"end{i}"] = moment(start), moment(end)
        return values


# The statements sort and hash a few hundred thousand rows for a district over a busy year: give
# this transaction's sorts the memory to stay off disk (PostgreSQL's default is 4 MB).
REPORT_WORK_MEM = "64MB"
# Each figure statement joins its rows to the petitions of the area. A district's report reads
# them from the covering index appeals_pet_scope_units (153 MB against the table's 351 MB over a
# million petitions); PostgreSQL's default random_page_cost (4, priced for spinning disks) makes
# the planner read the whole table instead (~0.4 s a statement over a million petitions). The
# deployment's database is cached and on solid-state storage (docs/deployment.md), where 1.1 is
# the usual setting: for the report's transactions only.
REPORT_RANDOM_PAGE_COST = "1.1"


def analytic_session() -> None:
    """The report's planner and memory settings, for the current transaction (SET LOCAL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")
            cursor.execute(f"SET LOCAL random_page_cost = {REPORT_RANDOM_PAGE_COST}")


def fetch(sql: str, params: dict[str, Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
