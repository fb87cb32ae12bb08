"""What the 设置 (reference) pages read: the working calendar, departments, staff, the access log.

Every list goes through the user's scope (governance/scoping.py). The admin used to show these
tables to every member of staff; now only administrators use the admin, and these selectors feed
the product's own pages (governance/reference_views.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import chinese_calendar
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.models import (
    AccessLog,
    CalendarDay,
    CalendarDayKind,
    Department,
    DepartmentKind,
    Role,
    StaffPost,
)
from governance.privacy import mask_phone
from governance.scoping import Scope, scope_for
from governance.workcalendar import (
    CALENDAR_TZ,
    _statutory_calendar,
    calendar_coverage_warnings,
    calendar_source,
    is_workday,
    official_swaps_known,
    package_covers_year,
    years_without_official_swaps,
)

# --- The working calendar ---------------------------------------------------------------------------

# The holiday packages name holidays in English; the page shows the names people use.
HOLIDAY_NAMES = {
    "New Year's Day": _("New Year's Day"),
    "Spring Festival": _("Spring Festival"),
    "Chinese New Year (Spring Festival)": _("Spring Festival"),
    "Tomb-sweeping Day": _("Tomb-sweeping Day"),
    "Tomb-Sweeping Day": _("Tomb-sweeping Day"),
    "Labour Day": _("Labour Day"),
    "Labor Day": _("Labour Day"),
    "Chinese New Year's Eve": _("Spring Festival's Eve"),
    "Dragon Boat Festival": _("Dragon Boat Festival"),
    "National Day": _("National Day"),
    "Mid-autumn Festival": _("Mid-autumn Festival"),
    "Mid-Autumn Festival": _("Mid-autumn Festival"),
}
# How many years either side of this year the calendar page offers.
CALENDAR_YEARS_AROUND = 1


@dataclass
class HolidayPeriod:
    """Consecutive days off; holidays that touch (国庆节 and 中秋节) make one period with both names."""

    names: list[str]
    first: date
    last: date
    overridden: bool = False

    @property
    def name(self) -> str:
        return "、".join(self.names)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass
class CalendarYear:
    year: int
    source: str  # "chinese-calendar", "holidays" or "weekdays" (governance.workcalendar.calendar_source)
    swaps_known: bool  # a package knows the official 调休 of the year
    has_rows: bool  # the CalendarDay table holds rows of the year (entered by hand)
    holidays: list[HolidayPeriod] = field(default_factory=list)
    swapped_workdays: list[tuple[date, str, bool]] = field(default_factory=list)  # (day, name, overridden)
    overrides: list[dict[str, Any]] = field(default_factory=list)  # every CalendarDay version, newest first

    @property
    def holiday_days(self) -> int:
        return sum(period.days for period in self.holidays)


def _holiday_name(day: date, package: bool) -> str:
    name = ""
    if package:
        name = chinese_calendar.get_holiday_detail(day)[1] or ""
    else:
        statutory = _statutory_calendar(day.year)
        if statutory is not None:
            name = statutory.get(day) or ""
    # The `holidays` package marks a day moved next to a holiday "(observed)": it is the same holiday.
    name = name.removesuffix(" (observed)")
    return str(HOLIDAY_NAMES.get(name, name))


def calendar_years(*, today: date | None = None) -> list[int]:
    """The years the calendar page offers: around this year, and any year with rows entered by hand."""
    today = today or timezone.localdate(timezone=CALENDAR_TZ)
    years = set(range(today.year - CALENDAR_YEARS_AROUND, today.year + CALENDAR_YEARS_AROUND + 1))
    years.update(d.year for d in CalendarDay.objects.dates("date", "year"))
    return sorted(years)


def calendar_year(year: int) -> CalendarYear:
    """The days off and swapped working days of `year` as deadlines count them now, with the hand-entered rows."""
    package = package_covers_year(year)
    rows = list(CalendarDay.objects.filter(date__year=year).order_by("date", "-effective_from"))
    current: dict[date, CalendarDay] = {}
    for row in rows:
        current.setdefault(row.date, row)  # newest version of each date first
    result = CalendarYear(
        year=year, source=calendar_source(year), swaps_known=official_swaps_known(year), has_rows=bool(rows)
    )
    day = date(year, 1, 1)
    while day.year == year:
        weekend = day.weekday() >= 5
        working = is_workday(day)
        row = current.get(day)
        if not working:
            name = (row.name if row is not None and row.name else "") or _holiday_name(day, package)
            # A plain weekend is not a holiday; a weekend inside a named holiday (or entered by hand) is.
            if not weekend or name or row is not None:
                last = result.holidays[-1] if result.holidays else None
                if last is not None and last.last == day - timedelta(days=1):
                    last.last = day
                    last.overridden = last.overridden or row is not None
                    if name and name not in last.names:
                        last.names.append(name)
                else:
                    names = [name] if name else []
                    result.holidays.append(HolidayPeriod(names=names, first=day, last=day, overridden=row is not None))
        elif weekend:
            name = (row.name if row is not None and row.name else "") or _holiday_name(day, package)
            result.swapped_workdays.append((day, name, row is not None))
        day += timedelta(days=1)
    for row in rows:
        result.overrides.append(
            {
                "row": row,
                "in_force": current[row.date].pk == row.pk,
                "kind": CalendarDayKind(row.kind).label,
            }
        )
    return result


def calendar_missing_years(*, today: date | None = None) -> tuple[list[int], list[int]]:
    """(years within 12 months whose official 调休 no package knows, those of them with no rows by hand)."""
    return years_without_official_swaps(today=today), calendar_coverage_warnings(today=today)


# --- Departments ------------------------------------------------------------------------------------

# Who reads a department's office phone in full: those who dispatch to departments and call them
# (street command and district centres), the department's own staff and administrators.
DEPARTMENT_PHONE_ROLES = frozenset({Role.STREET_COMMAND, Role.DISTRICT_CENTRE})


def _ancestor_paths(path: str) -> list[str]:
    parts = [part for part in path.split("/") if part]
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def departments_visible_to(user: Any) -> QuerySet[Department]:
    """Departments serving the user's areas (their district or street, or one inside their subtree),
    and the user's own departments. Administrators see all."""
    scope = scope_for(user)
    queryset = Department.objects.select_related("district").order_by("kind", "code")
    if scope.sees_all:
        return queryset
    condition = Q(pk__in=scope.department_ids)
    for path in scope.area_paths:
        condition |= Q(district__path__in=_ancestor_paths(path)) | Q(district__path__startswith=path)
    if scope.department_ids:
        own_districts = Department.objects.filter(pk__in=scope.department_ids, district__isnull=False)
        condition |= Q(district__in=own_districts.values("district"))
    if not scope.is_staff_member:
        return queryset.none()
    return queryset.filter(condition)


def department_phone_shown(scope: Scope, department: Department) -> str:
    if scope.sees_all or scope.has_role(*DEPARTMENT_PHONE_ROLES) or department.pk in scope.department_ids:
        return department.phone
    return mask_phone(department.phone)


def department_directory(user: Any, *, q: str = "", kind: str = "") -> list[dict[str, Any]]:
    """The visible departments grouped by kind: [{"kind", "label", "rows": [{department, phone}]}]."""
    scope = scope_for(user)
    queryset = departments_visible_to(user)
    if q:
        queryset = queryset.filter(Q(name__icontains=q) | Q(short_name__icontains=q) | Q(code__icontains=q))
    if kind in DepartmentKind.values:
        queryset = queryset.filter(kind=kind)
    groups: dict[str, dict[str, Any]] = {
        value: {"kind": value, "label": label, "rows": []} for value, label in DepartmentKind.choices
    }
    for department in queryset:
        groups[department.kind]["rows"].append(
            {"department": department, "phone": department_phone_shown(scope, department)}
        )
    return [group for group in groups.values() if group["rows"]]


# --- Staff --------------------------------------------------------------------------------------------


def staff_posts_visible_to(user: Any) -> QuerySet[StaffPost]:
    """Posts in the user's subtree (area posts) and of the user's departments; administrators: all."""
    scope = scope_for(user)
    queryset = StaffPost.objects.select_related("user", "area", "department").order_by(
        "area__path", "department__code", "role", "user__username"
    )
    if scope.sees_all:
        return queryset
    condition = Q(pk__in=[])
    area_q = scope.area_condition("area__path")
    if area_q is not None:
        condition |= area_q
    if scope.department_ids:
        condition |= Q(department_id__in=scope.department_ids)
    return queryset.filter(condition)


def staff_directory(user: Any, *, q: str = "", role: str = "", active: str = "1") -> QuerySet[StaffPost]:
    queryset = staff_posts_visible_to(user)
    if q:
        queryset = queryset.filter(
            Q(user__username__icontains=q)
            | Q(user__last_name__icontains=q)
            | Q(user__first_name__icontains=q)
            | Q(area__name__icontains=q)
            | Q(area__code__iexact=q)
            | Q(department__name__icontains=q)
        )
    if role in Role.values:
        queryset = queryset.filter(role=role)
    if active == "1":
        queryset = queryset.filter(is_active=True, user__is_active=True)
    return queryset


# --- The access log -------------------------------------------------------------------------------

# Who reads the access log outside the admin: the district centre (it oversees every tier) and
# administrators, as the admin allowed before it became administrators-only.
ACCESS_LOG_ROLES = frozenset({Role.DISTRICT_CENTRE})


def may_read_access_log(user: Any) -> bool:
    scope = scope_for(user)
    return scope.sees_all or scope.has_role(*ACCESS_LOG_ROLES)


def access_log_rows(
    *,
    user_q: str = "",
    reason: str = "",
    record: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AccessLog]:
    """Access log rows, newest first, filtered; the caller checks `may_read_access_log` first."""
    queryset = AccessLog.objects.order_by("-at", "-id")
    if user_q:
        # By the user's id when the account exists (indexed with the time), else by the name written.
        user_id = get_user_model().objects.filter(username=user_q).values_list("pk", flat=True).first()
        queryset = queryset.filter(user_id=user_id) if user_id is not None else queryset.filter(actor=user_q)
    if reason:
        queryset = queryset.filter(reason=reason)
    if record:
        queryset = queryset.filter(record=record)
    if since is not None:
        queryset = queryset.filter(at__gte=_day_start(since))
    if until is not None:
        queryset = queryset.filter(at__lt=_day_start(until + timedelta(days=1)))
    return queryset


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day), timezone.get_current_timezone())


__all__ = [
    "access_log_rows",
    "calendar_missing_years",
    "calendar_year",
    "calendar_years",
    "department_directory",
    "departments_visible_to",
    "may_read_access_log",
    "staff_directory",
    "staff_posts_visible_to",
]
