"""The three monthly rates, each defined once (docs/analytics-data.md explains every line).

Read-only, set-based SQL over the history rows (`HandlingRound`, `PetitionRating`, `Petition`):
one statement per rate, for the petitions located in an area's subtree (`area_path LIKE
'<path>%'`, served by the `appeals_pet_scope_recent` index) and one calendar month in Asia/Shanghai.
Reports, dashboards and their APIs call these; none computes a rate of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.utils import timezone

from governance.workcalendar import CALENDAR_TZ
from grids.models import Area

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


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """[start, end) of a calendar month in Beijing time, as aware datetimes (midnight to midnight)."""
    start = datetime.combine(date(year, month, 1), time(0), tzinfo=CALENDAR_TZ)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return start, datetime.combine(following, time(0), tzinfo=CALENDAR_TZ)


def _subtree(area: Area) -> str:
    return f"{area.path}%"


# Rounds whose acceptance fell due in the month (up to now), except rounds ended by a return
# (the case was not theirs: re-routed) or a merge; accepted by the deadline in force.
RESPONSE_SQL = """
SELECT
    COUNT(*) FILTER (WHERE r.accepted_at IS NOT NULL AND r.accepted_at <= r.accept_due_at) AS on_time,
    COUNT(*) AS due
FROM appeals_handlinground r
JOIN appeals_petition p ON p.id = r.petition_id
WHERE p.area_path LIKE %(subtree)s
  AND r.accept_due_at >= %(start)s AND r.accept_due_at < %(end)s
  AND (r.accept_due_at <= %(now)s OR r.accepted_at IS NOT NULL)
  AND r.end_event NOT IN ('returned', 'merged')
"""

# Each petition's last rating (resident or call-back) given in the month: its outcome that month.
LATEST_RATINGS_SQL = """
WITH latest AS (
    SELECT rt.rating,
           ROW_NUMBER() OVER (PARTITION BY rt.petition_id ORDER BY rt.rated_at DESC, rt.id DESC) AS newest
    FROM appeals_petitionrating rt
    JOIN appeals_petition p ON p.id = rt.petition_id
    WHERE p.area_path LIKE %(subtree)s
      AND rt.rated_at >= %(start)s AND rt.rated_at < %(end)s
)
SELECT COUNT(*) FILTER (WHERE rating = 'satisfied') AS satisfied,
       COUNT(*) FILTER (WHERE rating = 'basic') AS basic,
       COUNT(*) AS rated
FROM latest
WHERE newest = 1
"""

# Every rating given in the month, of every round.
EVERY_RATING_SQL = """
SELECT COUNT(*) FILTER (WHERE rt.rating = 'satisfied') AS satisfied,
       COUNT(*) FILTER (WHERE rt.rating = 'basic') AS basic,
       COUNT(*) AS rated
FROM appeals_petitionrating rt
JOIN appeals_petition p ON p.id = rt.petition_id
WHERE p.area_path LIKE %(subtree)s
  AND rt.rated_at >= %(start)s AND rt.rated_at < %(end)s
"""


def _row(sql: str, params: dict) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _params(area: Area, year: int, month: int, now: datetime | None = None) -> dict:
    start, end = month_bounds(year, month)
    # As the backend stores them (SQLite compares UTC text), so raw SQL compares like the ORM.
    moment = connection.ops.adapt_datetimefield_value
    return {"subtree": _subtree(area), "start": moment(start), "end": moment(end), "now": moment(now or timezone.now())}


def response_rate(*, area: Area, year: int, month: int, now: datetime | None = None) -> Rate:
    """响应率: acceptances on time ÷ acceptances that fell due in the month (returns excluded)."""
    on_time, due = _row(RESPONSE_SQL, _params(area, year, month, now))
    return Rate(Decimal(on_time), due)


def resolution_rate(*, area: Area, year: int, month: int) -> Rate:
    """解决率: petitions whose outcome in the month was 满意 or 基本满意 ÷ petitions with an outcome."""
    satisfied, basic, rated = _row(LATEST_RATINGS_SQL, _params(area, year, month))
    return Rate(Decimal(satisfied + basic), rated)


def satisfaction_rate(
    *, area: Area, year: int, month: int, rounds: str = LATEST_ROUND, basic_weight: Decimal | None = None
) -> Rate:
    """满意率: (满意 + w × 基本满意) ÷ rated, over each petition's latest rating or every rating."""
    weight = Decimal(str(settings.SATISFACTION_BASIC_WEIGHT if basic_weight is None else basic_weight))
    sql = {LATEST_ROUND: LATEST_RATINGS_SQL, EVERY_ROUND: EVERY_RATING_SQL}[rounds]
    satisfied, basic, rated = _row(sql, _params(area, year, month))
    return Rate(satisfied + weight * basic, rated)
