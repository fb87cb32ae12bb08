"""Calendar corrections keep their history: a deadline counts with the rows in force when it started."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from governance import workcalendar
from governance.models import CalendarDay, CalendarDayKind
from governance.workcalendar import TimeUnit, deadline_after, is_workday

BJ = ZoneInfo("Asia/Shanghai")
# Monday 2025-06-09, 17:00: one working day ends at close of business on Tuesday 10 June.
MONDAY_17 = datetime(2025, 6, 9, 17, 0, tzinfo=BJ)


@pytest.fixture(autouse=True)
def fresh_calendar_cache():
    workcalendar.calendar_cache_clear()
    yield
    workcalendar.calendar_cache_clear()


@pytest.mark.django_db
def test_a_correction_applies_to_clocks_started_after_it_took_effect():
    CalendarDay.objects.create(
        date=date(2025, 6, 10),
        kind=CalendarDayKind.HOLIDAY,
        name="防汛停工",
        effective_from=datetime(2025, 6, 9, 18, 0, tzinfo=BJ),
    )
    before = deadline_after(MONDAY_17, 1, TimeUnit.WORKING_DAYS)
    after = deadline_after(datetime(2025, 6, 9, 19, 0, tzinfo=BJ), 1, TimeUnit.WORKING_DAYS)
    assert before == datetime(2025, 6, 10, 17, 30, tzinfo=BJ)  # the holiday was not known yet
    assert after == datetime(2025, 6, 12, 17, 30, tzinfo=BJ)  # received Wednesday, not Tuesday


@pytest.mark.django_db
def test_the_newest_version_in_force_wins():
    CalendarDay.objects.create(
        date=date(2025, 6, 10), kind=CalendarDayKind.HOLIDAY, effective_from=datetime(2025, 1, 1, tzinfo=BJ)
    )
    CalendarDay.objects.create(
        date=date(2025, 6, 10), kind=CalendarDayKind.WORKDAY, effective_from=datetime(2025, 6, 1, tzinfo=BJ)
    )
    assert not is_workday(date(2025, 6, 10), as_of=datetime(2025, 5, 1, tzinfo=BJ))
    assert is_workday(date(2025, 6, 10), as_of=datetime(2025, 6, 2, tzinfo=BJ))
    assert is_workday(date(2025, 6, 10))  # today: the newest


@pytest.mark.django_db
def test_changing_a_day_in_the_admin_saves_a_new_version(client, administrator, django_capture_on_commit_callbacks):
    day = CalendarDay.objects.create(
        date=date(2025, 6, 10), kind=CalendarDayKind.HOLIDAY, effective_from=datetime(2025, 1, 1, tzinfo=BJ)
    )
    client.force_login(administrator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:governance_calendarday_change", args=[day.pk]),
            {"date": "2025-06-10", "kind": CalendarDayKind.WORKDAY, "name": "改为补班"},
        )
    assert response.status_code == 302
    versions = list(CalendarDay.objects.filter(date=date(2025, 6, 10)).order_by("effective_from"))
    assert [v.kind for v in versions] == [CalendarDayKind.HOLIDAY, CalendarDayKind.WORKDAY]
    assert not is_workday(date(2025, 6, 10), as_of=datetime(2025, 6, 1, tzinfo=BJ))
    assert is_workday(date(2025, 6, 10))
