"""The three monthly rates, each defined once (docs/analytics-data.md, docs/analytics.md).

Two set-based statements hold every definition: `response_rows` (handling rounds whose acceptance
fell due) and `rating_rows` (ratings given). Each reads the month, the month before and the same
month last year in one pass and groups by tier, unit below the area and department; the report
adds the groups up (numerators and denominators, never rates). `response_rate`, `resolution_rate`
and `satisfaction_rate` give one area's month from the same statements.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings

from analytics.selectors.common import MONTH, ReportScope, fetch, month_bounds
from grids.models import Area

__all__ = [
    "EVERY_ROUND",
    "LATEST_ROUND",
    "Rate",
    "RatingCounts",
    "month_bounds",
    "rating_rows",
    "resolution_rate",
    "response_rate",
    "response_rows",
    "satisfaction_rate",
]

LATEST_ROUND = "latest"
EVERY_ROUND = "every"


@dataclass(frozen=True)
class Rate:
    """A rate as its two counts: `numerator / denominator`, None when nothing was counted."""

    numerator: Decimal
    denominator: int

    @property
    def value(self) -> Decimal | None:
        if not self.denominator:
            return None
        return (Decimal(self.numerator) / self.denominator).quantize(Decimal("0.0001"))


def excluded_end_events() -> tuple[str, ...]:
    return tuple(settings.REPORT_RESPONSE_EXCLUDED_END_EVENTS) or ("",)


# 响应率. Rounds whose acceptance fell due in a period (and has passed by `now`, unless accepted
# already), except rounds ended by a return or a merge (configurable): accepted by the deadline in
# force. Grouped by period, the round's tier, the unit below the area that handled it, and the
# petition's department.
RESPONSE_SQL = """
SELECT {period} AS period, r.tier, {unit} AS unit, p.handler_department_id AS department,
       SUM(CASE WHEN r.accepted_at IS NOT NULL AND r.accepted_at <= r.accept_due_at THEN 1 ELSE 0 END) AS on_time,
       COUNT(*) AS due
FROM appeals_handlinground r
JOIN appeals_petition p ON p.id = r.petition_id
WHERE {area}
  AND {in_periods}
  AND (r.accept_due_at <= %(now)s OR r.accepted_at IS NOT NULL)
  AND r.end_event NOT IN ({excluded})
GROUP BY 1, 2, 3, 4
"""

# 解决率 and 满意率. Every rating given in a period (resident or call-back) with the tier of the round
# it rated; `latest` is 1 on each petition's newest rating of that period: its outcome that month.
RATINGS_SQL = """
WITH given AS (
    SELECT {period} AS period, rt.petition_id, rt.rating, rt.rated_at, rt.id,
           hr.tier, {unit} AS unit, p.handler_department_id AS department
    FROM appeals_petitionrating rt
    JOIN appeals_petition p ON p.id = rt.petition_id
    LEFT JOIN appeals_handlinground hr ON hr.petition_id = rt.petition_id AND hr.number = rt.round_number
    WHERE {area} AND {in_periods}
), ranked AS (
    SELECT period, rating, tier, unit, department,
           ROW_NUMBER() OVER (PARTITION BY period, petition_id ORDER BY rated_at DESC, id DESC) AS newest
    FROM given
)
SELECT period, tier, unit, department, CASE WHEN newest = 1 THEN 1 ELSE 0 END AS latest, rating, COUNT(*)
FROM ranked
GROUP BY 1, 2, 3, 4, 5, 6
"""


def response_rows(scope: ReportScope) -> list[tuple]:
    """(period, tier, unit id, department id, on time, due) for the three months."""
    sql = RESPONSE_SQL.format(
        period=scope.period("r.accept_due_at"),
        unit=scope.child_by_round("r.tier"),
        area=scope.area_condition,
        in_periods=scope.in_periods("r.accept_due_at"),
        excluded=", ".join(f"%(excluded{i})s" for i in range(len(excluded_end_events()))),
    )
    excluded = {f"excluded{i}": event for i, event in enumerate(excluded_end_events())}
    return fetch(sql, {**scope.params(), **excluded})


def rating_rows(scope: ReportScope) -> list[tuple]:
    """(period, tier, unit id, department id, latest 0/1, rating, count) for the three months."""
    sql = RATINGS_SQL.format(
        period=scope.period("rt.rated_at"),
        unit=scope.child_by_round("hr.tier"),
        area=scope.area_condition,
        in_periods=scope.in_periods("rt.rated_at"),
    )
    return fetch(sql, scope.params())


@dataclass
class RatingCounts:
    """满意, 基本满意 and 不满意 counted over a set of ratings."""

    satisfied: int = 0
    basic: int = 0
    unsatisfied: int = 0

    def add(self, rating: str, count: int) -> None:
        setattr(self, rating, getattr(self, rating) + count)

    @property
    def rated(self) -> int:
        return self.satisfied + self.basic + self.unsatisfied

    def resolution(self) -> Rate:
        """解决率: outcomes 满意 or 基本满意 ÷ outcomes (over each petition's latest rating of the month)."""
        return Rate(Decimal(self.satisfied + self.basic), self.rated)

    def satisfaction(self, basic_weight: Decimal | float | None = None) -> Rate:
        """满意率: (满意 + w × 基本满意) ÷ rated."""
        weight = Decimal(str(settings.SATISFACTION_BASIC_WEIGHT if basic_weight is None else basic_weight))
        return Rate(self.satisfied + weight * self.basic, self.rated)


def response_of(rows: Iterable[tuple]) -> Rate:
    """The response rate of the given response rows (added up)."""
    on_time = due = 0
    for row in rows:
        on_time += row[4]
        due += row[5]
    return Rate(Decimal(on_time), due)


def ratings_of(rows: Iterable[tuple], *, rounds: str = LATEST_ROUND) -> RatingCounts:
    """The rating counts of the given rating rows: latest ratings only, or every rating."""
    counts = RatingCounts()
    for _period, _tier, _unit, _department, latest, rating, count in rows:
        if rounds == EVERY_ROUND or latest:
            counts.add(rating, count)
    return counts


def _month(rows: list[tuple]) -> list[tuple]:
    return [row for row in rows if row[0] == MONTH]


def response_rate(*, area: Area, year: int, month: int, now: datetime | None = None) -> Rate:
    """响应率: acceptances on time ÷ acceptances that fell due in the month (returns excluded)."""
    return response_of(_month(response_rows(ReportScope.of(area, year, month, now))))


def resolution_rate(*, area: Area, year: int, month: int) -> Rate:
    """解决率: petitions whose outcome in the month was 满意 or 基本满意 ÷ petitions with an outcome."""
    return ratings_of(_month(rating_rows(ReportScope.of(area, year, month)))).resolution()


def satisfaction_rate(
    *, area: Area, year: int, month: int, rounds: str = LATEST_ROUND, basic_weight: Decimal | None = None
) -> Rate:
    """满意率: (满意 + w × 基本满意) ÷ rated, over each petition's latest rating or every rating."""
    counts = ratings_of(_month(rating_rows(ReportScope.of(area, year, month))), rounds=rounds)
    return counts.satisfaction(basic_weight)
