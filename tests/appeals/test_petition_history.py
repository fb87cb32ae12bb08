"""The history the services write: deadlines per event, handling rounds, ratings, extensions.

And `appeals.history.replay` (the demo's and the data migration's derivation) gives the same rows
from the same timeline, so the two writers cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, transaction

from appeals.history import replay
from appeals.models import (
    CallbackResult,
    EventType,
    ExtensionRequest,
    HandlingRound,
    Petition,
    PetitionEvent,
    PetitionRating,
    Rating,
    RatingSource,
    Status,
    Tier,
)
from appeals.services import (
    petition_accept,
    petition_ask_extension,
    petition_callback,
    petition_decide_extension,
    petition_escalate,
    petition_handle,
    petition_place,
    petition_rate,
    petition_reopen,
    petition_reply,
    petition_return,
    petitions_escalate_overdue,
)
from appeals.services.deadlines import limits_for
from governance.workcalendar import deadline_after

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
PHONE = "13800138000"


def _replayed(petition: Petition):
    events = list(PetitionEvent.objects.filter(petition=petition).order_by("created_at", "id"))
    stored = [(e.deadline_in_force, e.deadline_after, e.on_time) for e in events]

    def deadline_for(phase, tier, mode, at):
        limits = limits_for(
            category_id=petition.category_id, handling_mode=mode, tier=tier, urgency=petition.urgency, at=at
        )
        limit = limits.accept if phase == "accept" else limits.handle
        return deadline_after(at, limit.amount, limit.unit)

    granted = dict(petition.extensions.filter(status="granted").values_list("pk", "new_deadline"))
    result = replay(events, deadline_for=deadline_for, mode="fast", extensions=granted)
    derived = [(e.deadline_in_force, e.deadline_after, e.on_time) for e in events]
    return stored, derived, result


def _rounds(petition: Petition) -> list[tuple]:
    return list(
        HandlingRound.objects.filter(petition=petition)
        .order_by("number")
        .values_list(
            "number",
            "tier",
            "handler_area__code",
            "started_at",
            "start_event",
            "accept_due_at",
            "accepted_at",
            "responded_at",
            "handle_due_at",
            "resolved_at",
            "ended_at",
            "end_event",
        )
    )


def _replayed_rounds(result) -> list[tuple]:
    return [
        (
            r.number,
            r.tier,
            r.handler_area_code,
            r.started_at,
            r.start_event,
            r.accept_due_at,
            r.accepted_at,
            r.responded_at,
            r.handle_due_at,
            r.resolved_at,
            r.ended_at,
            r.end_event,
        )
        for r in result.rounds
    ]


@pytest.fixture
def long_life(submit, grid_worker_a, community_secretary, street_command):
    """Routed, accepted, escalated, extended, resolved, rated unsatisfied, reopened, resolved again, called back."""
    clock = MONDAY_9
    with time_machine.travel(clock, tick=False) as traveller:
        petition = submit()

        def at(minutes: int) -> None:
            nonlocal clock
            clock += timedelta(minutes=minutes)
            traveller.move_to(clock)

        at(30)
        petition_accept(petition_id=petition.pk, actor=grid_worker_a)
        at(60)
        petition_escalate(petition_id=petition.pk, actor=grid_worker_a, note="网格协调无果")
        at(20)
        petition_accept(petition_id=petition.pk, actor=community_secretary)
        at(10)
        petition_handle(petition_id=petition.pk, actor=community_secretary)
        petition.refresh_from_db()
        request = petition_ask_extension(
            petition_id=petition.pk,
            actor=community_secretary,
            reason="等待配件",
            new_deadline=petition.deadline_at + timedelta(days=3),
        )
        at(30)
        petition_decide_extension(request_id=request.pk, actor=street_command, grant=True)
        at(60 * 24 * 8)  # past the original handling deadline, within the extension
        petition_reply(petition_id=petition.pk, actor=community_secretary, reply="已更换配件")
        at(60)
        petition_rate(petition_id=petition.pk, rating=Rating.UNSATISFIED, contact_phone=PHONE)
        at(30)
        petition_reopen(petition_id=petition.pk, contact_phone=PHONE, reason="又坏了")
        at(15)
        petition_accept(petition_id=petition.pk, actor=community_secretary)
        at(60)
        petition_reply(petition_id=petition.pk, actor=community_secretary, reply="彻底修好")
        at(60 * 24 * 3)
        petition_callback(petition_id=petition.pk, actor=community_secretary, result=CallbackResult.SATISFIED)
    petition.refresh_from_db()
    return petition, request


def test_rounds_keep_every_acceptance_and_resolution(long_life, tree):
    petition, _request = long_life
    rounds = list(HandlingRound.objects.filter(petition=petition).order_by("number"))
    assert [(r.number, r.tier, r.start_event) for r in rounds] == [
        (1, Tier.GRID, EventType.ROUTED),
        (2, Tier.COMMUNITY, EventType.ESCALATED),
        (3, Tier.COMMUNITY, EventType.REOPENED),
    ]
    assert all(r.accepted_at and r.responded_at and r.accept_due_at for r in rounds)
    assert rounds[0].accepted_at == MONDAY_9 + timedelta(minutes=30)
    assert rounds[0].resolved_at is None and rounds[0].end_event == EventType.ESCALATED
    assert rounds[1].resolved_at and rounds[1].end_event == EventType.REOPENED
    assert rounds[2].resolved_at and not rounds[2].ended_at
    assert rounds[1].handler_area == tree["DS0C0"]
    # The petition's own acceptance is the first one: escalation and reopening no longer clear it.
    assert petition.accepted_at == rounds[0].accepted_at
    assert petition.round_count == 3


def test_every_rating_of_every_round_is_kept_and_the_newest_marked(long_life):
    petition, _request = long_life
    ratings = list(PetitionRating.objects.filter(petition=petition).order_by("rated_at"))
    assert [(r.round_number, r.rating, r.source, r.is_latest) for r in ratings] == [
        (2, Rating.UNSATISFIED, RatingSource.RESIDENT, False),
        (3, Rating.SATISFIED, RatingSource.CALLBACK, True),
    ]
    assert (petition.status, petition.rating) == (Status.CLOSED, Rating.SATISFIED)


def test_an_extension_records_the_old_and_the_new_deadline(long_life):
    petition, request = long_life
    request = ExtensionRequest.objects.get(pk=request.pk)
    asked = petition.events.get(type=EventType.EXTENSION_ASKED)
    granted = petition.events.get(type=EventType.EXTENSION_GRANTED)
    assert request.old_deadline == asked.deadline_in_force and request.old_deadline is not None
    assert granted.deadline_in_force == request.old_deadline
    assert granted.deadline_after == request.new_deadline
    assert granted.extra["old_deadline"] == request.old_deadline.isoformat()
    round_two = HandlingRound.objects.get(petition=petition, number=2)
    assert round_two.handle_due_at == request.new_deadline
    # Resolved after the original deadline but within the extension: on time.
    resolved = petition.events.filter(type=EventType.RESOLVED).first()
    assert resolved.created_at > request.old_deadline and resolved.on_time is True


def test_each_event_records_the_deadline_in_force_and_whether_the_step_was_on_time(long_life):
    petition, _request = long_life
    events = list(petition.events.order_by("created_at", "id"))
    routed, accepted = events[1], events[2]
    assert routed.type == EventType.ROUTED and routed.deadline_in_force is None
    assert routed.deadline_after == accepted.deadline_in_force is not None
    assert accepted.on_time is True and accepted.deadline_after > accepted.deadline_in_force
    assert all(e.on_time is None for e in events if e.type in (EventType.RATED, EventType.CALLBACK))


def test_a_replay_of_the_timeline_gives_what_the_services_wrote(long_life):
    petition, _request = long_life
    stored, derived, result = _replayed(petition)
    assert derived == stored
    assert _replayed_rounds(result) == _rounds(petition)
    ratings = [(r.round_number, r.rating, r.source, r.rated_at, r.is_latest) for r in result.ratings]
    assert ratings == list(
        petition.ratings.order_by("rated_at").values_list("round_number", "rating", "source", "rated_at", "is_latest")
    )


def test_a_replay_agrees_on_auto_escalation_return_and_re_routing(submit, grid_worker_a, community_secretary, tree):
    with time_machine.travel(MONDAY_9, tick=False) as traveller:
        petition = submit()
        traveller.move_to(MONDAY_9 + timedelta(hours=3))
        assert petitions_escalate_overdue() == 1
        traveller.move_to(MONDAY_9 + timedelta(hours=4))
        petition_return(petition_id=petition.pk, actor=community_secretary, reason="不属本社区")
        traveller.move_to(MONDAY_9 + timedelta(hours=5))
    petition.refresh_from_db()
    rounds = _rounds(petition)
    assert [(r[0], r[4], r[11]) for r in rounds] == [
        (1, EventType.ROUTED, EventType.AUTO_ESCALATED),
        (2, EventType.AUTO_ESCALATED, EventType.RETURNED),
    ]
    auto = petition.events.get(type=EventType.AUTO_ESCALATED)
    assert auto.on_time is False and auto.deadline_in_force == MONDAY_9 + timedelta(hours=2)
    stored, derived, result = _replayed(petition)
    assert derived == stored and _replayed_rounds(result) == rounds


def test_a_rating_reopened_is_not_lost(submit, grid_worker_a):
    petition = submit()
    petition_accept(petition_id=petition.pk, actor=grid_worker_a)
    petition_reply(petition_id=petition.pk, actor=grid_worker_a, reply="已处理")
    petition_rate(petition_id=petition.pk, rating=Rating.UNSATISFIED, contact_phone=PHONE)
    petition_reopen(petition_id=petition.pk, contact_phone=PHONE, reason="没修好")
    petition.refresh_from_db()
    assert petition.rating == ""  # the current round is not rated yet
    kept = PetitionRating.objects.get(petition=petition)
    assert (kept.rating, kept.round_number, kept.is_latest) == (Rating.UNSATISFIED, 1, True)


@pytest.mark.postgres
def test_the_database_refuses_an_event_that_is_no_move_of_the_table(submit):
    petition = submit()
    with pytest.raises(IntegrityError), transaction.atomic():
        PetitionEvent.objects.create(
            petition=petition,
            type=EventType.RATED,
            from_status=Status.ASSIGNED,
            to_status=Status.CLOSED,
            created_at=petition.created_at,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        PetitionEvent.objects.create(  # auto-escalation that writes another status than its move's
            petition=petition,
            type=EventType.AUTO_ESCALATED,
            from_status=Status.ACCEPTED,
            to_status=Status.PROCESSING,
            created_at=petition.created_at,
        )


def test_a_placed_petition_starts_a_round_at_its_new_unit(submit, community_secretary, grid_worker_a, tree):
    petition = submit()
    petition_return(petition_id=petition.pk, actor=grid_worker_a, reason="不在本网格")
    petition_place(petition_id=petition.pk, actor=community_secretary, area=tree["DS0C0G1"])
    numbers = list(HandlingRound.objects.filter(petition=petition).values_list("number", "end_event", "start_event"))
    assert numbers == [(1, EventType.RETURNED, EventType.ROUTED), (2, "", EventType.REROUTED)]
