"""Time limits keep their history: a clock uses the limit in force when it started."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import time_machine
from django.urls import reverse

from appeals.models import HandlingRound, Tier, TimeLimit
from appeals.services.deadlines import limits_cache_clear, limits_for
from governance.workcalendar import TimeUnit

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)


def _limit(hours: str, since: datetime) -> TimeLimit:
    return TimeLimit.objects.create(
        tier=Tier.GRID,
        accept_amount=Decimal(hours),
        accept_unit=TimeUnit.WORKING_HOURS,
        handle_amount=Decimal("3"),
        handle_unit=TimeUnit.WORKING_DAYS,
        effective_from=since,
    )


def test_a_clock_uses_the_limit_in_force_when_it_started(submit):
    _limit("2", datetime(2020, 1, 1, tzinfo=SHANGHAI))
    _limit("1", MONDAY_9 + timedelta(days=1))
    limits_cache_clear()
    with time_machine.travel(MONDAY_9, tick=False):
        before = submit()
    with time_machine.travel(MONDAY_9 + timedelta(days=1, hours=1), tick=False):
        after = submit()
    assert before.deadline_at == MONDAY_9 + timedelta(hours=2)
    assert after.deadline_at == MONDAY_9 + timedelta(days=1, hours=2)
    assert HandlingRound.objects.get(petition=before).accept_due_at == before.deadline_at
    assert limits_for(category_id=None, handling_mode="", tier=Tier.GRID, at=MONDAY_9).accept.amount == 2


def test_changing_a_limit_in_the_admin_keeps_the_old_row(client, administrator):
    row = _limit("2", datetime(2020, 1, 1, tzinfo=SHANGHAI))
    client.force_login(administrator)
    response = client.post(
        reverse("admin:appeals_timelimit_change", args=[row.pk]),
        {
            "tier": Tier.GRID,
            "handling_mode": "",
            "accept_amount": "1",
            "accept_unit": TimeUnit.WORKING_HOURS,
            "handle_amount": "3",
            "handle_unit": TimeUnit.WORKING_DAYS,
        },
    )
    assert response.status_code == 302
    rows = list(TimeLimit.objects.filter(pk__gte=row.pk).order_by("effective_from"))
    assert [r.accept_amount for r in rows] == [Decimal("2"), Decimal("1")]
    assert rows[0].pk == row.pk and rows[1].effective_from > rows[0].effective_from
