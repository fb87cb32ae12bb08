"""One bad row never stops a sweep: each item is isolated, the failure recorded and shown."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from appeals.models import Channel, EventType, Petition, Status, Tier
from appeals.services import (
    petition_accept,
    petition_handle,
    petition_reply,
    petitions_close_unrated,
    petitions_escalate_overdue,
    petitions_route_unrouted,
    petitions_send_reminders,
    sweeps,
)

pytestmark = pytest.mark.postgres


def poison(petition: Petition) -> None:
    """Store a received time of year 1 as a bad hotline row did: PostgreSQL keeps it (as 1 BC in
    UTC), Python cannot read it back."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE appeals_petition SET created_at = '0001-01-01 00:00:00+08' WHERE id = %s", [petition.pk])


def failure(petition: Petition) -> tuple[str, bool]:
    error, failed_at = Petition.objects.filter(pk=petition.pk).values_list("sweep_error", "sweep_failed_at").get()
    return error, failed_at is not None


@pytest.fixture
def hotline(submit):
    def _hotline(**values):
        return submit(route=False, channel=Channel.HOTLINE, **values)

    return _hotline


def test_a_poisoned_row_does_not_stop_routing_the_others(hotline, monkeypatch):
    monkeypatch.setattr(sweeps, "UNROUTED_GRACE", timedelta(0))
    bad = hotline(title="来电时间填成了0001年")
    good = [hotline(title=f"正常工单{i}") for i in range(3)]
    poison(bad)

    assert petitions_route_unrouted() == 3

    assert set(Petition.objects.filter(pk__in=[p.pk for p in good]).values_list("status", flat=True)) == {
        Status.ASSIGNED
    }
    error, failed = failure(bad)
    assert failed and error.startswith("route: DataError")
    # Skipped from now on, until someone fixes the row: later petitions still get routed.
    late = hotline(title="之后的工单")
    assert petitions_route_unrouted() == 1
    assert Petition.objects.get(pk=late.pk).status == Status.ASSIGNED


def test_a_poisoned_row_does_not_stop_escalation_or_reminders(submit):
    petitions = [submit(title=f"逾期工单{i}") for i in range(3)]
    past = timezone.now() - timedelta(minutes=1)
    Petition.objects.filter(pk__in=[p.pk for p in petitions]).update(deadline_at=past, remind_at=past)
    poison(petitions[0])

    assert petitions_send_reminders() == 2
    assert failure(petitions[0])[0].startswith("remind: DataError")
    assert petitions_escalate_overdue() == 2  # the row the reminders set aside is skipped

    escalated = Petition.objects.filter(pk__in=[p.pk for p in petitions[1:]])
    assert set(escalated.values_list("tier", flat=True)) == {Tier.COMMUNITY}
    assert escalated.filter(events__type=EventType.REMINDED).count() == 2
    # Given back unfixed, it fails alone again, now recorded by the escalation sweep.
    sweeps.petition_sweep_failure_clear(petition_ids=[petitions[0].pk])
    assert petitions_escalate_overdue() == 0
    assert failure(petitions[0])[0].startswith("escalate: DataError")


def test_the_bulk_pass_and_the_row_by_row_pass_write_the_same(submit):
    petitions = [submit(title=f"逾期工单{i}") for i in range(2)]
    Petition.objects.filter(pk__in=[p.pk for p in petitions]).update(deadline_at=timezone.now())
    poison(petitions[0])
    Petition.objects.filter(pk=petitions[0].pk).update(sweep_failed_at=timezone.now(), sweep_error="x")

    assert petitions_escalate_overdue() == 1
    assert Petition.objects.get(pk=petitions[1].pk).escalated_on_deadline


def _resolved(submit, grid_worker_a, count: int) -> list[Petition]:
    rows = []
    for i in range(count):
        petition = submit(title=f"已办结{i}")
        petition_accept(petition_id=petition.pk, actor=grid_worker_a)
        petition_handle(petition_id=petition.pk, actor=grid_worker_a)
        petition_reply(petition_id=petition.pk, actor=grid_worker_a, reply="已处理")
        rows.append(petition)
    Petition.objects.filter(pk__in=[p.pk for p in rows]).update(resolved_at=timezone.now() - timedelta(days=30))
    return rows


def test_closing_unrated_petitions_isolates_a_bad_row(submit, grid_worker_a):
    bad, *good = _resolved(submit, grid_worker_a, 3)
    poison(bad)

    assert petitions_close_unrated() == 2

    assert set(Petition.objects.filter(pk__in=[p.pk for p in good]).values_list("status", flat=True)) == {Status.CLOSED}
    assert failure(bad)[1]
    assert petitions_close_unrated() == 0


@pytest.mark.django_db(transaction=True)
def test_closing_unrated_petitions_skips_a_row_someone_holds(tree, category, grid_worker_a, settings):
    from appeals.services import petition_route, petition_submit
    from tests.appeals.conftest import POINT_A

    settings.PETITION_DUPLICATE_WINDOW_SECONDS = 0

    def submit(**values):
        petition = petition_submit(
            channel=Channel.MOBILE,
            description="幸福路12号院门口垃圾三天没人清运。",
            contact_phone="13800138000",
            category=category,
            lon=POINT_A[0],
            lat=POINT_A[1],
            **values,
        ).petition
        petition_route(petition_id=petition.pk)
        return petition

    held, *free = _resolved(submit, grid_worker_a, 3)
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                Petition.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(30)
        assert petitions_close_unrated() == 2  # never waits for the held row
    finally:
        release.set()
        holder.join()
    assert Petition.objects.get(pk=held.pk).status == Status.RESOLVED
    assert not failure(held)[1]
    assert petitions_close_unrated() == 1


def test_the_district_sees_the_rows_a_sweep_set_aside(client, submit, district_centre, street_command):
    bad = submit(title="坏数据")
    fine = submit(title="正常")
    sweeps.sweep_failure_record(petition_id=bad.pk, sweep="route", error=ValueError("year 1 is out of range"))

    client.force_login(district_centre)
    response = client.get(reverse("appeals:list"), {"tab": "sweep_failed"})
    assert {p.tracking_no for p in response.context["page"]} == {bad.tracking_no}
    assert "year 1 is out of range" in response.content.decode()
    assert fine.tracking_no not in response.content.decode()

    client.force_login(street_command)
    response = client.get(reverse("appeals:list"), {"tab": "sweep_failed"})
    assert "sweep_failed" not in [value for value, _label in response.context["tabs"]]
    assert list(response.context["page"]) == []


def test_clearing_the_mark_gives_the_row_back_to_the_sweeps(submit):
    petition = submit()
    Petition.objects.filter(pk=petition.pk).update(deadline_at=timezone.now())
    sweeps.sweep_failure_record(petition_id=petition.pk, sweep="escalate", error=RuntimeError("boom"))
    assert petitions_escalate_overdue() == 0

    assert sweeps.petition_sweep_failure_clear(petition_ids=[petition.pk]) == 1

    assert petitions_escalate_overdue() == 1
    assert failure(petition) == ("", False)


def test_the_district_gives_the_rows_back_to_the_sweeps_from_its_list(client, submit, district_centre, street_command):
    bad = submit(title="坏数据")
    sweeps.sweep_failure_record(petition_id=bad.pk, sweep="route", error=ValueError("year 1 is out of range"))

    client.force_login(street_command)
    assert client.post(reverse("appeals:sweep_clear")).status_code == 403
    assert failure(bad)[1]

    client.force_login(district_centre)
    page = client.get(reverse("appeals:list"), {"tab": "sweep_failed"}).content.decode()
    assert reverse("appeals:sweep_clear") in page
    assert client.get(reverse("appeals:sweep_clear")).status_code == 405
    response = client.post(reverse("appeals:sweep_clear"), follow=True)
    assert response.redirect_chain[-1][0].endswith("?tab=sweep_failed")
    assert "1 条诉求已交回后台任务处理。" in response.content.decode()
    assert failure(bad) == ("", False)
    assert list(client.get(reverse("appeals:list"), {"tab": "sweep_failed"}).context["page"]) == []
