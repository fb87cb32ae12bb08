from datetime import timedelta

import pytest

from appeals.lifecycle import InvalidTransition
from appeals.models import EventType, ExtensionStatus, Status, Tier
from appeals.services import (
    petition_accept,
    petition_ask_extension,
    petition_decide_extension,
    petition_escalate,
    petition_place,
    petition_reply,
    petition_return,
    petition_supervise,
    petition_urge,
    petition_whistle,
)
from governance.errors import DomainError, Forbidden


def test_it_lets_only_the_handling_grid_accept(submit, grid_worker_b, resident):
    petition = submit()
    for outsider in (grid_worker_b, resident):
        with pytest.raises(Forbidden):
            petition_accept(petition_id=petition.pk, actor=outsider)
    petition.refresh_from_db()
    assert petition.status == Status.ASSIGNED


def test_it_refuses_a_reply_before_acceptance_naming_the_allowed_moves(submit, grid_worker_a):
    petition = submit()
    with pytest.raises(InvalidTransition) as caught:
        petition_reply(petition_id=petition.pk, actor=grid_worker_a, reply="好了")
    assert "accept" in caught.value.extra["allowed"]


def test_it_needs_a_reason_to_return_and_keeps_the_dispute_visible_above(
    submit, grid_worker_a, community_secretary, tree
):
    petition = submit()
    with pytest.raises(DomainError) as caught:
        petition_return(petition_id=petition.pk, actor=grid_worker_a, reason=" ")
    assert "reason" in caught.value.extra["fields"]
    petition = petition_return(petition_id=petition.pk, actor=grid_worker_a, reason="不在本网格")
    assert (petition.status, petition.handler_area, petition.tier) == (Status.RETURNED, tree["DS0C0"], Tier.COMMUNITY)
    event = petition.events.get(type=EventType.RETURNED)
    assert event.note == "不在本网格" and event.actor == grid_worker_a
    petition = petition_place(petition_id=petition.pk, actor=community_secretary, area=tree["DS0C0G1"])
    assert petition.status == Status.ASSIGNED and petition.handler_area == tree["DS0C0G1"]
    assert petition.events.filter(type=EventType.REROUTED).exists()


def test_it_grants_an_extension_asked_before_the_deadline(submit, grid_worker_a, community_secretary):
    petition = submit()
    petition = petition_accept(petition_id=petition.pk, actor=grid_worker_a)
    later = petition.deadline_at + timedelta(days=2)
    request = petition_ask_extension(petition_id=petition.pk, actor=grid_worker_a, reason="等配件", new_deadline=later)
    with pytest.raises(DomainError):
        petition_ask_extension(petition_id=petition.pk, actor=grid_worker_a, reason="再等", new_deadline=later)
    with pytest.raises(Forbidden):
        petition_decide_extension(request_id=request.pk, actor=grid_worker_a, grant=True)
    request = petition_decide_extension(request_id=request.pk, actor=community_secretary, grant=True)
    assert request.status == ExtensionStatus.GRANTED
    petition.refresh_from_db()
    assert petition.deadline_at == later


def test_it_refuses_an_extension_after_the_deadline(submit, grid_worker_a):
    import time_machine

    petition = submit()
    with (
        time_machine.travel(petition.deadline_at + timedelta(minutes=1), tick=False),
        pytest.raises(DomainError) as caught,
    ):
        petition_ask_extension(
            petition_id=petition.pk,
            actor=grid_worker_a,
            reason="晚了",
            new_deadline=petition.deadline_at + timedelta(days=1),
        )
    assert caught.value.code == "deadline_passed"


def test_only_an_upper_tier_urges_and_supervises(submit, grid_worker_a, community_secretary):
    petition = submit()
    with pytest.raises(Forbidden):
        petition_urge(petition_id=petition.pk, actor=grid_worker_a)
    petition_urge(petition_id=petition.pk, actor=community_secretary, note="尽快")
    petition = petition_supervise(petition_id=petition.pk, actor=community_secretary)
    assert petition.urge_count == 1 and petition.supervised
    assert grid_worker_a.notifications.filter(kind="urged").exists()


def test_the_grid_cannot_whistle_departments(submit, grid_worker_a, department):
    petition = submit()
    with pytest.raises(DomainError) as caught:
        petition_whistle(petition_id=petition.pk, actor=grid_worker_a, lead_department_id=department.pk)
    assert caught.value.code == "tier_too_low"


def test_the_district_has_no_tier_above_for_a_manual_escalation(submit, administrator):
    petition = submit()
    for _ in range(3):
        petition_escalate(petition_id=petition.pk, actor=administrator, note="上报")
    with pytest.raises(DomainError) as caught:
        petition_escalate(petition_id=petition.pk, actor=administrator, note="上报")
    assert caught.value.code == "top_tier"
