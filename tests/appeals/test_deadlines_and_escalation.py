"""Deadlines in working time, the 80% reminder and automatic four-tier escalation, on a frozen clock."""

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

from appeals.models import EventType, Petition, Status, Tier, Urgency
from appeals.services import petition_accept, petitions_escalate_overdue, petitions_send_reminders

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Monday 2026-11-23, 09:00 local.
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)


def test_a_grid_gets_two_working_hours_to_accept(submit):
    with time_machine.travel(MONDAY_9, tick=False):
        petition = submit()
    assert petition.deadline_at == datetime(2026, 11, 23, 11, 0, tzinfo=SHANGHAI)
    assert petition.remind_at == datetime(2026, 11, 23, 10, 36, tzinfo=SHANGHAI)


def test_a_deadline_skips_the_weekend(submit):
    friday_17 = datetime(2026, 11, 27, 17, 0, tzinfo=SHANGHAI)
    with time_machine.travel(friday_17, tick=False):
        petition = submit()
    # 30 minutes on Friday, 90 more from Monday 08:30.
    assert petition.deadline_at == datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)


def test_an_emergency_runs_on_the_clock_that_never_stops(submit):
    saturday_23 = datetime(2026, 11, 28, 23, 0, tzinfo=SHANGHAI)
    with time_machine.travel(saturday_23, tick=False):
        petition = submit(urgency=Urgency.EMERGENCY)
    assert petition.deadline_at == datetime(2026, 11, 29, 0, 0, tzinfo=SHANGHAI)


def test_an_overdue_petition_climbs_one_tier_per_deadline_up_to_the_district(submit, tree, community_secretary):
    with time_machine.travel(MONDAY_9, tick=False):
        petition = submit()
    expected = [(Tier.COMMUNITY, tree["DS0C0"]), (Tier.STREET, tree["DS0"]), (Tier.DISTRICT, tree["D"])]
    for tier, area in expected:
        petition.refresh_from_db()
        with time_machine.travel(petition.deadline_at, tick=False):
            assert petitions_escalate_overdue() == 1
            assert petitions_escalate_overdue() == 0  # nothing is escalated twice
        petition.refresh_from_db()
        assert (petition.tier, petition.handler_area, petition.status) == (tier, area, Status.ASSIGNED)
        assert petition.escalated_on_deadline
    with time_machine.travel(petition.deadline_at, tick=False):
        assert petitions_escalate_overdue() == 1
    petition.refresh_from_db()
    assert petition.tier == Tier.DISTRICT and petition.deadline_at is None and petition.supervised
    assert petition.overdue  # the district's clock stopped past its deadline
    assert petition.events.filter(type=EventType.AUTO_ESCALATED).count() == 4


def test_the_sweeper_leaves_petitions_within_their_deadline(submit):
    with time_machine.travel(MONDAY_9, tick=False):
        submit()
    with time_machine.travel(datetime(2026, 11, 23, 10, 59, tzinfo=SHANGHAI), tick=False):
        assert petitions_escalate_overdue() == 0


def test_it_reminds_once_at_80_percent_of_the_time(submit, grid_worker_a):
    with time_machine.travel(MONDAY_9, tick=False):
        petition = submit()
    with time_machine.travel(petition.remind_at, tick=False):
        assert petitions_send_reminders() == 1
        assert petitions_send_reminders() == 0
    assert grid_worker_a.notifications.filter(kind="reminder").count() == 1
    assert petition.events.filter(type=EventType.REMINDED).count() == 1


def test_accepting_restarts_the_clock_with_the_handling_limit(submit, grid_worker_a):
    with time_machine.travel(MONDAY_9, tick=False):
        petition = submit()
        petition = petition_accept(petition_id=petition.pk, actor=grid_worker_a)
    # Three working days after Monday: Thursday close of business.
    assert petition.deadline_at == datetime(2026, 11, 26, 17, 30, tzinfo=SHANGHAI)
    assert Petition.objects.get(pk=petition.pk).first_response_at is not None
