"""The working calendar and deadline arithmetic (governance/workcalendar.py, docs/working-time.md)."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from governance import workcalendar
from governance.models import CalendarDay, CalendarDayKind, Role
from governance.settings import parse_working_hours
from governance.workcalendar import (
    TimeUnit,
    calendar_coverage_warnings,
    deadline_after,
    fraction_elapsed,
    is_workday,
    working_time_between,
)
from tests.factories import make_user

BJ = ZoneInfo("Asia/Shanghai")


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=BJ)


@pytest.fixture(autouse=True)
def fresh_calendar_cache():
    # The per-process cache outlives a test's rolled-back rows; start and end every test clean.
    workcalendar.calendar_cache_clear()
    workcalendar._warned_years.clear()
    yield
    workcalendar.calendar_cache_clear()
    workcalendar._warned_years.clear()


# --- Working hours ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_adds_working_hours_inside_a_plain_weekday():
    # Tuesday 2025-06-10, 09:00 + 2 h stays in the morning period.
    assert deadline_after(bj(2025, 6, 10, 9, 0), 2, TimeUnit.WORKING_HOURS) == bj(2025, 6, 10, 11, 0)


@pytest.mark.django_db
def test_it_skips_the_lunch_break():
    assert deadline_after(bj(2025, 6, 10, 11, 0), 2, TimeUnit.WORKING_HOURS) == bj(2025, 6, 10, 15, 0)


@pytest.mark.django_db
def test_it_starts_counting_at_14_00_when_started_at_lunch():
    assert deadline_after(bj(2025, 6, 10, 12, 30), 1, TimeUnit.WORKING_HOURS) == bj(2025, 6, 10, 15, 0)


@pytest.mark.django_db
def test_it_ends_at_the_end_of_a_period_when_time_runs_out_there():
    assert deadline_after(bj(2025, 6, 10, 11, 0), 1, TimeUnit.WORKING_HOURS) == bj(2025, 6, 10, 12, 0)


@pytest.mark.django_db
def test_it_counts_from_next_morning_when_started_after_17_30():
    assert deadline_after(bj(2025, 6, 10, 18, 0), 1, TimeUnit.WORKING_HOURS) == bj(2025, 6, 11, 9, 30)


@pytest.mark.django_db
def test_it_carries_friday_afternoon_working_hours_over_to_monday():
    # Friday 2025-06-13 16:00: 1.5 h left on Friday, 2.5 h on Monday morning.
    assert deadline_after(bj(2025, 6, 13, 16, 0), 4, TimeUnit.WORKING_HOURS) == bj(2025, 6, 16, 11, 0)


@pytest.mark.django_db
def test_it_accepts_fractional_working_hours():
    assert deadline_after(bj(2025, 6, 10, 9, 0), Decimal("0.5"), TimeUnit.WORKING_HOURS) == bj(2025, 6, 10, 9, 30)


@pytest.mark.django_db
def test_it_returns_beijing_time_for_a_utc_start():
    start = datetime(2025, 6, 10, 1, 0, tzinfo=ZoneInfo("UTC"))  # 09:00 in Beijing
    deadline = deadline_after(start, 1, TimeUnit.WORKING_HOURS)
    assert deadline == bj(2025, 6, 10, 10, 0)
    assert deadline.utcoffset() == timedelta(hours=8)


@pytest.mark.django_db
def test_it_honours_configured_working_hours(settings):
    settings.WORKING_HOURS = parse_working_hours("09:00-17:00")
    assert deadline_after(bj(2025, 6, 10, 16, 0), 2, TimeUnit.WORKING_HOURS) == bj(2025, 6, 11, 10, 0)


# --- Holidays and swapped working days (chinese-calendar data) ----------------------------------


@pytest.mark.django_db
def test_it_skips_the_2025_national_day_holiday_and_counts_the_swapped_sunday():
    assert is_workday(date(2025, 9, 28))  # Sunday, 调休上班
    assert not any(is_workday(date(2025, 10, day)) for day in range(1, 9))
    assert is_workday(date(2025, 10, 9))
    # Friday 2025-09-26 17:00 + 2 h: 0.5 h Friday, 1.5 h on the swapped Sunday 2025-09-28.
    assert deadline_after(bj(2025, 9, 26, 17, 0), 2, TimeUnit.WORKING_HOURS) == bj(2025, 9, 28, 10, 0)
    # Tuesday 2025-09-30 10:00 + 1 working day: the holiday is skipped, day 1 is Thursday 10-09.
    assert deadline_after(bj(2025, 9, 30, 10, 0), 1, TimeUnit.WORKING_DAYS) == bj(2025, 10, 9, 17, 30)


@pytest.mark.django_db
def test_it_skips_the_2026_spring_festival():
    # 2026-02-15 to 02-23 off; Saturday 02-14 and 02-28 are swapped working days.
    assert is_workday(date(2026, 2, 14))
    assert not is_workday(date(2026, 2, 16))
    assert not is_workday(date(2026, 2, 23))
    assert deadline_after(bj(2026, 2, 14, 16, 0), 3, TimeUnit.WORKING_HOURS) == bj(2026, 2, 24, 10, 0)
    assert deadline_after(bj(2026, 2, 13, 10, 0), 2, TimeUnit.WORKING_DAYS) == bj(2026, 2, 24, 17, 30)


# --- Working days ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_ends_working_days_at_close_of_the_nth_working_day_after_the_start_day():
    # Tuesday 10:00 + 5 working days: Wed, Thu, Fri, Mon, Tue → next Tuesday 17:30.
    assert deadline_after(bj(2025, 6, 10, 10, 0), 5, TimeUnit.WORKING_DAYS) == bj(2025, 6, 17, 17, 30)


@pytest.mark.django_db
def test_it_treats_a_case_received_after_close_as_received_next_working_day():
    assert deadline_after(bj(2025, 6, 10, 17, 30), 1, TimeUnit.WORKING_DAYS) == bj(2025, 6, 12, 17, 30)


@pytest.mark.django_db
def test_it_treats_a_case_received_at_the_weekend_as_received_on_monday():
    # Saturday 2025-06-14: counts as received Monday 06-16, day 1 is Tuesday.
    assert deadline_after(bj(2025, 6, 14, 10, 0), 1, TimeUnit.WORKING_DAYS) == bj(2025, 6, 17, 17, 30)


@pytest.mark.django_db
def test_it_refuses_fractional_working_days_and_non_positive_amounts():
    with pytest.raises(ValueError):
        deadline_after(bj(2025, 6, 10, 10, 0), Decimal("1.5"), TimeUnit.WORKING_DAYS)
    with pytest.raises(ValueError):
        deadline_after(bj(2025, 6, 10, 10, 0), 0, TimeUnit.WORKING_HOURS)
    with pytest.raises(ValueError):
        deadline_after(datetime(2025, 6, 10, 10, 0), 1, TimeUnit.WORKING_HOURS)


@pytest.mark.django_db
def test_it_stops_a_runaway_walk_with_a_clear_error():
    with pytest.raises(workcalendar.CalendarRangeError):
        deadline_after(bj(2025, 6, 10, 10, 0), 100_000, TimeUnit.WORKING_HOURS)


@pytest.mark.django_db
def test_it_computes_five_working_days_with_a_handful_of_queries(django_assert_max_num_queries):
    # One query per calendar year touched, not one per day or minute.
    with django_assert_max_num_queries(1):
        deadline_after(bj(2025, 6, 10, 10, 0), 5, TimeUnit.WORKING_DAYS)
        deadline_after(bj(2025, 6, 11, 10, 0), 40, TimeUnit.WORKING_HOURS)


# --- Clock units ----------------------------------------------------------------------------------


def test_it_counts_emergency_hours_straight_through_the_weekend():
    # Friday 2025-06-13 22:00 + 24 h → Saturday 22:00.
    assert deadline_after(bj(2025, 6, 13, 22, 0), 24, TimeUnit.EMERGENCY_HOURS) == bj(2025, 6, 14, 22, 0)


def test_it_counts_natural_days_as_24_hour_periods_through_holidays():
    assert deadline_after(bj(2025, 9, 30, 10, 15), 15, TimeUnit.NATURAL_DAYS) == bj(2025, 10, 15, 10, 15)


# --- Years the package does not know ------------------------------------------------------------


@pytest.mark.django_db
def test_it_takes_2027s_statutory_holidays_from_the_holidays_package():
    # Spring Festival 2027: the eve (Friday 02-05) to Wednesday 02-10 (two days in lieu of the weekend).
    assert [is_workday(date(2027, 2, day)) for day in range(4, 12)] == [
        True, False, False, False, False, False, False, True
    ]  # fmt: skip
    # Thursday 2027-02-04 17:00 + 2 working hours: 0.5 h on Thursday, then Thursday 02-11.
    assert deadline_after(bj(2027, 2, 4, 17, 0), 2, TimeUnit.WORKING_HOURS) == bj(2027, 2, 11, 10, 0)
    assert not is_workday(date(2027, 10, 1)) and not is_workday(date(2027, 5, 4))
    assert workcalendar.calendar_source(2027) == "holidays"


def test_the_holidays_package_agrees_with_chinese_calendar_where_both_know_the_year():
    import chinese_calendar
    import holidays

    days = [date(2025, 1, 1) + timedelta(days=n) for n in range(730)]
    statutory = holidays.China(years=[2025, 2026])
    swapped = {d for d in days if d.weekday() >= 5 and chinese_calendar.is_workday(d)}
    assert {d for d in statutory.weekend_workdays if d.year in (2025, 2026)} == swapped
    assert [d for d in days if statutory.is_working_day(d) != chinese_calendar.is_workday(d)] == []


@pytest.mark.django_db
def test_the_table_stays_above_the_holidays_package():
    CalendarDay.objects.create(date=date(2027, 2, 10), kind=CalendarDayKind.WORKDAY, name="调休上班")
    CalendarDay.objects.create(date=date(2027, 2, 20), kind=CalendarDayKind.WORKDAY, name="调休上班")
    assert is_workday(date(2027, 2, 10))
    assert is_workday(date(2027, 2, 20))  # a Saturday


@pytest.mark.django_db
def test_it_falls_back_to_monday_to_friday_beyond_every_package():
    assert workcalendar.calendar_source(2101) == "weekdays"
    new_year = date(2101, 1, 1)
    assert is_workday(new_year) == (new_year.weekday() < 5)


@pytest.mark.django_db
def test_it_uses_2027s_statutory_holidays_without_its_swaps_and_warns_once(caplog):
    with caplog.at_level(logging.WARNING, logger="governance.workcalendar"):
        assert is_workday(date(2027, 3, 1))  # Monday
        assert not is_workday(date(2027, 3, 6))  # Saturday
        deadline = deadline_after(bj(2027, 3, 5, 16, 0), 4, TimeUnit.WORKING_HOURS)
    assert deadline == bj(2027, 3, 8, 11, 0)
    warnings = [r for r in caplog.records if "2027" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING


@pytest.mark.django_db
def test_it_honours_a_calendar_day_row_in_an_uncovered_year():
    CalendarDay.objects.create(date=date(2027, 1, 1), kind=CalendarDayKind.HOLIDAY, name="元旦")
    assert not is_workday(date(2027, 1, 1))  # a Friday
    # Thursday 2026-12-31 17:00 + 1 h: 0.5 h on Thursday, then Monday 2027-01-04.
    assert deadline_after(bj(2026, 12, 31, 17, 0), 1, TimeUnit.WORKING_HOURS) == bj(2027, 1, 4, 9, 0)


@pytest.mark.django_db
def test_it_reports_uncovered_years_within_the_next_12_months():
    assert calendar_coverage_warnings(today=date(2025, 6, 1)) == []
    assert calendar_coverage_warnings(today=date(2026, 11, 23)) == [2027]
    CalendarDay.objects.create(date=date(2027, 1, 1), kind=CalendarDayKind.HOLIDAY, name="元旦")
    assert calendar_coverage_warnings(today=date(2026, 11, 23)) == []


@pytest.mark.django_db
def test_it_reports_uncovered_years_from_the_frozen_clock():
    with time_machine.travel(bj(2026, 3, 1, 9, 0), tick=False):
        assert calendar_coverage_warnings() == [2027]


# --- The override table ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_lets_the_table_override_the_package_in_a_covered_year():
    CalendarDay.objects.create(date=date(2025, 6, 10), kind=CalendarDayKind.HOLIDAY, name="防汛停工")
    CalendarDay.objects.create(date=date(2025, 6, 14), kind=CalendarDayKind.WORKDAY, name="补班")
    assert not is_workday(date(2025, 6, 10))
    assert is_workday(date(2025, 6, 14))


@pytest.mark.django_db
def test_it_caches_the_table_until_cleared():
    assert is_workday(date(2025, 6, 10))
    CalendarDay.objects.create(date=date(2025, 6, 10), kind=CalendarDayKind.HOLIDAY, name="防汛停工")
    assert is_workday(date(2025, 6, 10))  # still the cached year
    workcalendar.calendar_cache_clear()
    assert not is_workday(date(2025, 6, 10))


@pytest.mark.django_db
def test_it_reloads_the_table_after_the_ttl(monkeypatch):
    assert is_workday(date(2025, 6, 10))
    CalendarDay.objects.create(date=date(2025, 6, 10), kind=CalendarDayKind.HOLIDAY, name="防汛停工")
    monkeypatch.setattr(workcalendar, "OVERRIDES_TTL_SECONDS", 0.0)
    assert not is_workday(date(2025, 6, 10))


# --- Elapsed working time -------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_measures_working_time_across_a_weekend():
    # Friday 2025-06-13 16:00 → Monday 06-16 10:00: 1.5 h + 1.5 h.
    assert working_time_between(bj(2025, 6, 13, 16, 0), bj(2025, 6, 16, 10, 0)) == timedelta(hours=3)
    assert working_time_between(bj(2025, 6, 16, 10, 0), bj(2025, 6, 13, 16, 0)) == timedelta(0)


@pytest.mark.django_db
def test_it_counts_a_full_working_day_as_seven_hours():
    assert working_time_between(bj(2025, 6, 10, 0, 0), bj(2025, 6, 11, 0, 0)) == timedelta(hours=7)


@pytest.mark.django_db
def test_it_measures_the_fraction_of_a_limit_in_working_time():
    start = bj(2025, 6, 13, 16, 0)
    deadline = deadline_after(start, 4, TimeUnit.WORKING_HOURS)
    # Saturday noon: only Friday's 1.5 h of 4 h have passed.
    assert fraction_elapsed(start, deadline, bj(2025, 6, 14, 12, 0), TimeUnit.WORKING_HOURS) == pytest.approx(0.375)
    assert fraction_elapsed(start, deadline, deadline, TimeUnit.WORKING_HOURS) == pytest.approx(1.0)
    assert fraction_elapsed(start, deadline, bj(2025, 6, 16, 15, 0), TimeUnit.WORKING_HOURS) > 1.0


def test_it_measures_the_fraction_of_a_clock_limit_in_clock_time():
    start = bj(2025, 6, 13, 22, 0)
    deadline = deadline_after(start, 10, TimeUnit.EMERGENCY_HOURS)
    assert fraction_elapsed(start, deadline, bj(2025, 6, 14, 6, 0), TimeUnit.EMERGENCY_HOURS) == pytest.approx(0.8)
    assert fraction_elapsed(start, deadline, bj(2025, 6, 13, 21, 0), TimeUnit.EMERGENCY_HOURS) == 0.0


# --- WORKING_HOURS setting ------------------------------------------------------------------------


def test_it_parses_working_hours():
    assert parse_working_hours("08:30-12:00, 14:00-17:30") == (
        (datetime(1, 1, 1, 8, 30).time(), datetime(1, 1, 1, 12, 0).time()),
        (datetime(1, 1, 1, 14, 0).time(), datetime(1, 1, 1, 17, 30).time()),
    )


@pytest.mark.parametrize(
    "value",
    [
        "",
        "8-12",
        "08:30-12:00;14:00-17:30",
        "25:00-26:00",
        "12:00-08:30",
        "08:30-12:00,11:00-17:30",
        "14:00-17:30,08:30-12:00",
    ],
)
def test_it_refuses_bad_working_hours_naming_the_variable(value):
    with pytest.raises(ImproperlyConfigured, match="WORKING_HOURS"):
        parse_working_hours(value)


# --- Admin ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_renders_the_changelist_for_an_administrator_with_the_coverage_warning(client, django_user_model):
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", "pass-12345")
    CalendarDay.objects.create(date=date(2026, 10, 1), kind=CalendarDayKind.HOLIDAY, name="国庆节")
    client.force_login(superuser)
    with time_machine.travel(bj(2026, 11, 23, 9, 0), tick=False):
        response = client.get(reverse("admin:governance_calendarday_changelist"))
    assert response.status_code == 200
    assert "国庆节" in response.content.decode()
    assert [m.message for m in response.context["messages"] if "2027" in m.message]


@pytest.mark.django_db
def test_it_lets_an_administrator_add_a_day_and_uses_it_at_once(
    client, administrator, django_capture_on_commit_callbacks
):
    client.force_login(administrator)
    assert is_workday(date(2025, 6, 10))  # warms the cache for 2025
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:governance_calendarday_add"),
            {"date": "2025-06-10", "kind": CalendarDayKind.HOLIDAY, "name": "防汛停工"},
        )
    assert response.status_code == 302
    assert not is_workday(date(2025, 6, 10))


@pytest.mark.django_db
def test_it_refuses_the_calendar_admin_to_a_non_administrator_staff_member(client, tree):
    worker = make_user("grid_staff", role=Role.GRID_WORKER, area=tree["DS0C0G0"], is_staff=True)
    day = CalendarDay.objects.create(date=date(2025, 6, 10), kind=CalendarDayKind.HOLIDAY, name="防汛停工")
    client.force_login(worker)
    # Staff read the calendar in 设置 (tests/governance/test_reference_pages.py); the admin is refused.
    assert client.get(reverse("admin:governance_calendarday_changelist")).status_code == 403
    assert client.get(reverse("admin:governance_calendarday_add")).status_code == 403
    response = client.post(
        reverse("admin:governance_calendarday_change", args=[day.pk]),
        {"date": "2025-06-10", "kind": CalendarDayKind.WORKDAY, "name": "changed"},
    )
    assert response.status_code == 403
    response = client.post(reverse("admin:governance_calendarday_delete", args=[day.pk]), {"post": "yes"})
    assert response.status_code == 403
    day.refresh_from_db()
    assert day.kind == CalendarDayKind.HOLIDAY


@pytest.mark.django_db
def test_the_system_check_names_the_years_without_official_swaps():
    from governance.checks import calendar_swaps_check

    with time_machine.travel(bj(2026, 12, 1, 9, 0), tick=False):
        messages = calendar_swaps_check(databases=["default"])
        assert [m.id for m in messages] == ["governance.I001"]
        assert "2027" in messages[0].msg and "statutory holidays" in messages[0].msg
        CalendarDay.objects.create(date=date(2027, 2, 20), kind=CalendarDayKind.WORKDAY, name="调休上班")
        assert calendar_swaps_check(databases=["default"]) == []
        assert [m.id for m in calendar_swaps_check()] == ["governance.I001"]  # no database: packages only
    with time_machine.travel(bj(2025, 6, 1, 9, 0), tick=False):
        assert calendar_swaps_check() == []


@pytest.mark.django_db
def test_a_kept_span_is_the_counted_one_and_follows_a_calendar_edit():
    """`working_time_span` keeps a counted span; an edit of the calendar (which clears the loaded
    rows, governance.admin) clears the kept spans with them."""
    start, end = bj(2026, 12, 7, 9, 0), bj(2026, 12, 9, 17, 30)  # Monday 09:00 to Wednesday 17:30
    assert workcalendar.working_time_span(start, end) == working_time_between(start, end) == timedelta(hours=20.5)
    CalendarDay.objects.create(date=date(2026, 12, 8), kind=CalendarDayKind.HOLIDAY, name="测试假日")
    assert workcalendar.working_time_span(start, end) == timedelta(hours=20.5)  # kept: the loaded rows too
    workcalendar.calendar_cache_clear()
    assert workcalendar.working_time_span(start, end) == working_time_between(start, end) == timedelta(hours=13.5)
