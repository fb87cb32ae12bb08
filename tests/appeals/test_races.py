"""Races on real PostgreSQL with real threads: a plain TestCase would hide them."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from appeals.lifecycle import InvalidTransition
from appeals.models import EventType, Petition, PetitionEvent, Status, Tier
from appeals.services import (
    petition_accept,
    petition_rate,
    petition_reopen,
    petition_reply,
    petition_route,
    petitions_escalate_overdue,
)
from appeals.tasks import route_petition
from governance.errors import DomainError

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_in_threads(*callables):
    """Run the callables at once (released together by a barrier); return results or exceptions."""
    barrier = threading.Barrier(len(callables))
    results: list[object] = [None] * len(callables)

    def runner(index, func):
        try:
            barrier.wait()
            results[index] = func()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, f)) for i, f in enumerate(callables)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def make_overdue(tree, category, count: int) -> list[int]:
    grid = tree["DS0C0G0"]
    past = timezone.now() - timedelta(hours=1)
    rows = [
        Petition(
            tracking_no=f"R{i:08d}",
            channel="mobile",
            title="路灯不亮",
            description="小区路灯坏了",
            category=category,
            status=Status.ASSIGNED,
            tier=Tier.GRID,
            handler_area=grid,
            microgrid=tree["DS0C0G0M0"],
            grid=grid,
            community=tree["DS0C0"],
            street=tree["DS0"],
            area_path=tree["DS0C0G0M0"].path,
            deadline_at=past,
            created_at=past - timedelta(days=1),
        )
        for i in range(count)
    ]
    return [p.pk for p in Petition.objects.bulk_create(rows, batch_size=500)]


def test_two_sweepers_escalate_each_of_1000_overdue_petitions_exactly_once(tree, category):
    ids = make_overdue(tree, category, 1000)
    results = run_in_threads(petitions_escalate_overdue, petitions_escalate_overdue)
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 1000
    per_petition = Counter(
        PetitionEvent.objects.filter(type=EventType.AUTO_ESCALATED).values_list("petition_id", flat=True)
    )
    assert set(per_petition) == set(ids)
    assert set(per_petition.values()) == {1}
    assert Petition.objects.filter(pk__in=ids, tier=Tier.COMMUNITY, status=Status.ASSIGNED).count() == 1000


def test_two_conflicting_transitions_at_once_exactly_one_wins(submit, grid_worker_a, community_secretary):
    for _round in range(5):
        petition = submit()
        results = run_in_threads(
            lambda pk=petition.pk: petition_accept(petition_id=pk, actor=grid_worker_a),
            lambda pk=petition.pk: petition_accept(petition_id=pk, actor=community_secretary),
        )
        winners = [r for r in results if isinstance(r, Petition)]
        losers = [r for r in results if isinstance(r, Exception)]
        assert len(winners) == 1 and len(losers) == 1, results
        assert isinstance(losers[0], InvalidTransition)
        petition.refresh_from_db()
        assert petition.status == winners[0].status
        assert petition.events.filter(type=EventType.ACCEPTED).count() == 1


def test_a_rating_and_a_reopen_at_once_leave_one_consistent_outcome(submit, grid_worker_a):
    for _round in range(3):
        petition = submit()
        petition_accept(petition_id=petition.pk, actor=grid_worker_a)
        petition_reply(petition_id=petition.pk, actor=grid_worker_a, reply="已处理")
        results = run_in_threads(
            lambda pk=petition.pk: petition_rate(petition_id=pk, rating="satisfied", contact_phone="13800138000"),
            lambda pk=petition.pk: petition_reopen(petition_id=pk, contact_phone="13800138000", reason="没有修好"),
        )
        assert sum(isinstance(r, Petition) for r in results) == 1, results
        petition.refresh_from_db()
        assert petition.status in (Status.CLOSED, Status.ASSIGNED)
        assert (petition.status == Status.ASSIGNED) == (petition.reopen_count == 1)


def test_the_same_routing_task_delivered_twice_at_once_has_one_effect(submit):
    petition = submit(route=False)
    results = run_in_threads(
        lambda: route_petition.apply(args=[petition.pk]), lambda: route_petition.apply(args=[petition.pk])
    )
    assert not any(isinstance(r, Exception) for r in results), results
    assert petition.events.filter(type=EventType.ROUTED).count() == 1
    route_petition.apply(args=[petition.pk])  # a late redelivery changes nothing either
    assert petition.events.filter(type=EventType.ROUTED).count() == 1
    assert petition_route(petition_id=petition.pk) is None


def test_two_merges_of_the_same_pair_in_opposite_directions_do_not_deadlock(submit, community_secretary):
    from appeals.services import petition_merge

    first, second = submit(), submit()
    results = run_in_threads(
        lambda: petition_merge(petition_id=first.pk, into_id=second.pk, actor=community_secretary),
        lambda: petition_merge(petition_id=second.pk, into_id=first.pk, actor=community_secretary),
    )
    assert sum(isinstance(r, Petition) for r in results) == 1
    assert all(isinstance(r, (Petition, DomainError)) for r in results), results
    assert Petition.objects.filter(pk__in=[first.pk, second.pk], status=Status.MERGED).count() == 1
