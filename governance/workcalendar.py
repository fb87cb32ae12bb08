"""The working calendar: which days are working days, and deadline arithmetic in working time.

Every question about working time goes through this module, so a petition's deadline, its 80 %
reminder and the response-time statistics agree. The rules are in docs/working-time.md.

Which days are working days: a `CalendarDay` row (an administrator's correction) wins; otherwise the
`chinese-calendar` package (public holidays and 调休 swapped working days); for a year it does not
know, the statutory holidays of the `holidays` package (it lists the holidays the law fixes before
the State Council publishes the year's 调休); for a year neither knows, Monday to Friday. Years
whose official swapped working days are still missing are reported in the log and on the
CalendarDay admin page.
Corrections keep their history (`effective_from`): a deadline counts with the rows in force when
its clock started, so recomputing a past deadline gives the deadline that was set then.
"""

from __future__ import annotations

import logging
import threading
import time as monotonic_clock
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.models import CalendarDay, CalendarDayKind

logger = logging.getLogger(__name__)

# The calendar is China's whatever settings.TIME_ZONE says: a day is a Beijing-time day.
CALENDAR_TZ = ZoneInfo("Asia/Shanghai")

# How long a process trusts the CalendarDay rows it loaded. Admin edits clear the cache of the
# process that saved at once; other processes (workers, other web processes) see them within this
# time. A minute is well below any time limit and keeps the table out of hot loops.
OVERRIDES_TTL_SECONDS = 60.0

# Day-by-day walks stop here (about ten years): a larger span is a bad amount or a bad date, and a
# clear error beats a request that spins.
MAX_DAYS_WALKED = 3700

DEFAULT_WORKING_HOURS: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)), (time(14, 0), time(17, 30)))


class TimeUnit(models.TextChoices):
    # Natural clock hours that never stop: nights, weekends and holidays count.
    EMERGENCY_HOURS = "emergency_hours", _("Hours (around the clock)")
    # Hours inside the working periods of working days only.
    WORKING_HOURS = "working_hours", _("Working hours")
    # Whole working days, ending at close of business.
    WORKING_DAYS = "working_days", _("Working days")
    # N × 24 hours, weekends and holidays included.
    NATURAL_DAYS = "natural_days", _("Natural days")


class CalendarRangeError(ValueError):
    """A computation walked more than MAX_DAYS_WALKED days: the amount or the dates are wrong."""


# --- Which days are working days ---------------------------------------------------------------

_overrides_lock = threading.Lock()
# year -> (loaded at, monotonic seconds; {date: [(effective from, CalendarDayKind value), …] oldest first})
_overrides: dict[int, tuple[float, dict[date, list[tuple[datetime, str]]]]] = {}
# Years already reported in this process, so the log says it once, not once per deadline.
_warned_years: set[int] = set()


def calendar_cache_clear() -> None:
    """Forget the loaded CalendarDay rows and the spans counted with them (after an edit, and between tests)."""
    with _overrides_lock:
        _overrides.clear()
        _spans.clear()


def _overrides_for_year(year: int) -> dict[date, list[tuple[datetime, str]]]:
    now = monotonic_clock.monotonic()
    cached = _overrides.get(year)
    if cached is not None and now - cached[0] < OVERRIDES_TTL_SECONDS:
        return cached[1]
    rows = CalendarDay.objects.filter(date__gte=date(year, 1, 1), date__lte=date(year, 12, 31))
    loaded: dict[date, list[tuple[datetime, str]]] = {}
    for day, effective_from, kind in rows.order_by("date", "effective_from").values_list(
        "date", "effective_from", "kind"
    ):
        loaded.setdefault(day, []).append((effective_from, kind))
    with _overrides_lock:
        _overrides[year] = (now, loaded)
    return loaded


@cache
def package_covers_year(year: int) -> bool:
    """Whether the installed `chinese-calendar` has the official holiday data for `year`."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=4096)
def _package_is_workday(d: date) -> bool:
    # The package's data never changes in a process, and its lookup rescans its whole table.
    return chinese_calendar.is_workday(d)


@cache
def _statutory_calendar(year: int) -> holidays.HolidayBase | None:
    """The `holidays` package's China calendar of `year`, or None when it lists no holiday then."""
    calendar = holidays.China(years=year)
    return calendar if any(day.year == year for day in calendar) else None


@cache
def statutory_covers_year(year: int) -> bool:
    """Whether the `holidays` package knows the statutory holidays of `year`."""
    return _statutory_calendar(year) is not None


@cache
def official_swaps_known(year: int) -> bool:
    """Whether a package knows `year`'s official swapped working days (调休), not only its holidays."""
    if package_covers_year(year):
        return True
    calendar = _statutory_calendar(year)
    return calendar is not None and any(day.year == year for day in calendar.weekend_workdays)


def calendar_source(year: int) -> str:
    """Where working days of `year` come from after the CalendarDay rows: for the admin and the log."""
    if package_covers_year(year):
        return "chinese-calendar"
    if statutory_covers_year(year):
        return "holidays"
    return "weekdays"


def _warn_uncovered(year: int, override_count: int) -> None:
    if year in _warned_years:
        return
    _warned_years.add(year)
    if statutory_covers_year(year):
        logger.warning(
            "The chinese-calendar package has no data for %s; working days use the statutory holidays of the "
            "holidays package without the official swapped working days (调休), plus %s CalendarDay row(s). "
            "Enter that year's swapped working days in the admin once published, or upgrade chinese-calendar.",
            year,
            override_count,
        )
        return
    logger.warning(
        "No holiday package has data for %s; working days fall back to Monday-Friday "
        "plus %s CalendarDay row(s). Enter that year's holidays and swapped working days in the admin, "
        "or upgrade chinese-calendar.",
        year,
        override_count,
    )


def _override(versions: list[tuple[datetime, str]] | None, as_of: datetime | None) -> str | None:
    """The kind of the newest correction of a day in force at `as_of` (the newest of all if None)."""
    kind = None
    for effective_from, version_kind in versions or ():
        if as_of is not None and effective_from > as_of:
            break
        kind = version_kind
    return kind


def is_workday(d: date, *, as_of: datetime | None = None) -> bool:
    """Whether `d` (a Beijing-time day) is a working day, by the corrections in force at `as_of`.

    Never raises for an unknown year.
    """
    if isinstance(d, datetime):
        d = _local(d).date()
    overrides = _overrides_for_year(d.year)
    kind = _override(overrides.get(d), as_of)
    if kind is not None:
        return kind == CalendarDayKind.WORKDAY
    if package_covers_year(d.year):
        return _package_is_workday(d)
    if not official_swaps_known(d.year):
        _warn_uncovered(d.year, len(overrides))
    statutory = _statutory_calendar(d.year)
    if statutory is not None:
        return statutory.is_working_day(d)
    return d.weekday() < 5


def years_without_official_swaps(*, today: date | None = None) -> list[int]:
    """Years within the next 12 months whose official swapped working days no package knows."""
    today = today or timezone.localdate(timezone=CALENDAR_TZ)
    horizon = today + timedelta(days=365)
    return [year for year in range(today.year, horizon.year + 1) if not official_swaps_known(year)]


def calendar_coverage_warnings(*, today: date | None = None) -> list[int]:
    """Years within the next 12 months whose official swapped working days (调休) no package knows
    and the CalendarDay table does not hold (their statutory holidays may still be known).

    Computed from the data rather than remembered, so every process and every admin sees the same
    answer until someone enters the year's rows (one row is taken as "maintained by hand").
    """
    return [
        year
        for year in years_without_official_swaps(today=today)
        if not CalendarDay.objects.filter(date__year=year).exists()
    ]


# --- Working periods --------------------------------------------------------------------------


def working_periods() -> tuple[tuple[time, time], ...]:
    """The working periods of a working day, read at call time so tests may override settings."""
    return getattr(settings, "WORKING_HOURS", DEFAULT_WORKING_HOURS) or DEFAULT_WORKING_HOURS


def _local(moment: datetime) -> datetime:
    if timezone.is_naive(moment):
        raise ValueError(f"{moment!r} is naive; working-time arithmetic needs aware datetimes.")
    return moment.astimezone(CALENDAR_TZ)


def _at(day: date, clock: time) -> datetime:
    # Asia/Shanghai has no DST, so combining a date and a wall-clock time is exact.
    return datetime.combine(day, clock, tzinfo=CALENDAR_TZ)


def _close_of_business(day: date) -> datetime:
    return _at(day, working_periods()[-1][1])


def _next_workday(day: date, as_of: datetime | None = None) -> date:
    for _step in range(MAX_DAYS_WALKED):
        day += timedelta(days=1)
        if is_workday(day, as_of=as_of):
            return day
    raise CalendarRangeError(f"No working day within {MAX_DAYS_WALKED} days after {day}.")


# --- Deadline arithmetic -----------------------------------------------------------------------


def _as_decimal(amount: int | Decimal) -> Decimal:
    if isinstance(amount, float):
        amount = Decimal(str(amount))
    amount = Decimal(amount)
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"A time limit must be a positive number, not {amount}.")
    return amount


def _hours(amount: Decimal) -> timedelta:
    return timedelta(microseconds=int(amount * 3_600_000_000))


def _add_working_time(start: datetime, duration: timedelta) -> datetime:
    """The instant at which `duration` of working time has elapsed after `start`.

    Ends inside a period, or exactly at a period's end (12:00, not 14:00) when the time runs out
    there. Walks day by day and period by period, never minute by minute.
    """
    remaining = duration
    day = start.date()
    for _step in range(MAX_DAYS_WALKED):
        if is_workday(day, as_of=start):
            for opens, closes in working_periods():
                segment_start = max(_at(day, opens), start)
                segment_end = _at(day, closes)
                if segment_end <= segment_start:
                    continue
                available = segment_end - segment_start
                if remaining <= available:
                    return segment_start + remaining
                remaining -= available
        day += timedelta(days=1)
    raise CalendarRangeError(f"{duration} of working time after {start} runs past {MAX_DAYS_WALKED} days.")


def _working_days_deadline(start: datetime, days: int) -> datetime:
    # The day the case counts as received: the start day if it is a working day and the start is
    # before close of business, else the next working day (like a letter arriving on Saturday).
    # That day itself is not counted (期间开始的当日不计算在内); day 1 is the next working day.
    received = start.date()
    if not is_workday(received, as_of=start) or start >= _close_of_business(received):
        received = _next_workday(received, start)
    day = received
    for _counted in range(days):
        day = _next_workday(day, start)
    return _close_of_business(day)


def deadline_after(start: datetime, amount: int | Decimal, unit: TimeUnit | str) -> datetime:
    """When a time limit of `amount` `unit`s that starts at `start` runs out (aware, Beijing time).

    Working time is counted with the calendar corrections in force at `start`.

    EMERGENCY_HOURS: start + amount hours. WORKING_HOURS: amount hours of working periods on working
    days. WORKING_DAYS (whole numbers only): close of business of the amount-th working day after the
    day the case counts as received. NATURAL_DAYS: start + amount × 24 hours.
    """
    start = _local(start)
    value = _as_decimal(amount)
    unit = TimeUnit(unit)
    if unit == TimeUnit.EMERGENCY_HOURS:
        return start + _hours(value)
    if unit == TimeUnit.NATURAL_DAYS:
        return start + _hours(value * 24)
    if unit == TimeUnit.WORKING_HOURS:
        return _add_working_time(start, _hours(value))
    if value != value.to_integral_value():
        raise ValueError(f"A limit in working days must be a whole number, not {value}.")
    if value > MAX_DAYS_WALKED:
        raise CalendarRangeError(f"{value} working days is more than this calendar computes.")
    return _working_days_deadline(start, int(value))


def working_time_between(start: datetime, end: datetime) -> timedelta:
    """Working time (inside working periods of working days) from `start` to `end`; zero if end ≤ start."""
    start, end = _local(start), _local(end)
    total = timedelta(0)
    if end <= start:
        return total
    day = start.date()
    for _step in range(MAX_DAYS_WALKED):
        if day > end.date():
            return total
        if is_workday(day, as_of=start):
            for opens, closes in working_periods():
                segment_start = max(_at(day, opens), start)
                segment_end = min(_at(day, closes), end)
                if segment_end > segment_start:
                    total += segment_end - segment_start
        day += timedelta(days=1)
    raise CalendarRangeError(f"{start} to {end} spans more than {MAX_DAYS_WALKED} days.")


# A list page counts each open petition's whole time limit (its start to its deadline) in working
# time at every request: the same span, counted with the same calendar, kept OVERRIDES_TTL_SECONDS
# like the calendar rows it was counted with, and cleared with them (at once after an edit here).
SPANS_MAX = 8192
_spans: dict[tuple[datetime, datetime], tuple[float, timedelta]] = {}


def working_time_span(start: datetime, end: datetime) -> timedelta:
    """`working_time_between(start, end)`, kept per process for a span already counted."""
    now = monotonic_clock.monotonic()
    kept = _spans.get((start, end))
    if kept is not None and now - kept[0] < OVERRIDES_TTL_SECONDS:
        return kept[1]
    value = working_time_between(start, end)
    with _overrides_lock:
        if len(_spans) >= SPANS_MAX:
            _spans.clear()
        _spans[start, end] = (now, value)
    return value


def fraction_elapsed(start: datetime, deadline: datetime, now: datetime, unit: TimeUnit | str) -> float:
    """How much of the time limit has been used: 0.0 at the start, 1.0 at the deadline, above 1 when late.

    Working units measure working time (a weekend does not eat into a working-hours limit); the
    other units measure clock time.
    """
    unit = TimeUnit(unit)
    if unit in (TimeUnit.WORKING_HOURS, TimeUnit.WORKING_DAYS):
        used, allowed = working_time_between(start, now), working_time_between(start, deadline)
    else:
        used, allowed = max(now - start, timedelta(0)), deadline - start
    if allowed <= timedelta(0):
        return 1.0 if now >= deadline else 0.0
    return used / allowed
