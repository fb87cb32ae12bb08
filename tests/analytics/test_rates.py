"""The three monthly rates on a hand-made history: returns, escalations, extensions, reopenings,
call-backs, another street's petitions, and the month boundary at midnight Beijing time."""

from __future__ import annotations

import itertools
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from analytics.selectors import (
    EVERY_ROUND,
    LATEST_ROUND,
    month_bounds,
    resolution_rate,
    response_rate,
    satisfaction_rate,
)
from appeals.models import Channel, EventType, HandlingRound, Petition, PetitionRating, Rating, RatingSource, Status
from appeals.services._base import location_columns

SH = ZoneInfo("Asia/Shanghai")
_numbers = itertools.count(1)


def at(month: int, day: int, hour: int = 9, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def petition(grid) -> Petition:
    return Petition.objects.create(
        tracking_no=f"T{next(_numbers):08d}",
        channel=Channel.MOBILE,
        title="测试",
        description="测试",
        status=Status.ASSIGNED,
        tier=1,
        handler_area=grid,
        **location_columns(grid),  # the level columns a report's scope reads, as intake sets them
        created_at=at(1, 1),
    )


def round_(p, number, due, *, accepted=None, end_event="", ended=None):
    return HandlingRound.objects.create(
        petition=p,
        number=number,
        tier=1,
        handler_area=p.handler_area,
        started_at=due.replace(hour=0),
        start_event=EventType.ROUTED,
        accept_due_at=due,
        accepted_at=accepted,
        responded_at=accepted,
        end_event=end_event,
        ended_at=ended,
    )


def rating(p, round_number, value, when, *, source=RatingSource.RESIDENT):
    PetitionRating.objects.filter(petition=p, is_latest=True).update(is_latest=False)
    return PetitionRating.objects.create(
        petition=p, round_number=round_number, rating=value, source=source, rated_at=when
    )


@pytest.fixture
def history(tree):
    grid, other = tree["DS0C0G0"], tree["DS1C1G1"]
    a = petition(grid)  # due 23:00 on the last day of January, accepted an hour before
    round_(a, 1, at(1, 31, 23), accepted=at(1, 31, 22))
    b = petition(grid)  # due at midnight that starts February: a February figure; accepted late
    round_(b, 1, at(2, 1, 0), accepted=at(2, 1, 9))
    c = petition(grid)  # returned (not its grid): excluded; re-routed and accepted in time
    round_(c, 1, at(1, 9), end_event=EventType.RETURNED, ended=at(1, 9, 8))
    round_(c, 2, at(1, 10), accepted=at(1, 10, 8))
    d = petition(grid)  # never accepted, escalated on deadline; the community accepts late
    round_(d, 1, at(1, 12), end_event=EventType.AUTO_ESCALATED, ended=at(1, 12, 9, 1))
    round_(d, 2, at(1, 13), accepted=at(1, 13, 15))
    e = petition(grid)  # extended: accepted after the original deadline, before the extended one
    round_(e, 1, at(1, 20, 17, 30), accepted=at(1, 20, 12))
    k = petition(grid)  # due on 30 January, not accepted yet
    round_(k, 1, at(1, 30))
    f = petition(other)  # another street: never in these figures
    round_(f, 1, at(1, 15), accepted=at(1, 15, 8))

    g = petition(grid)  # unsatisfied, reopened, then satisfied: two rounds rated in January
    rating(g, 1, Rating.UNSATISFIED, at(1, 10))
    rating(g, 2, Rating.SATISFIED, at(1, 20))
    h = petition(grid)  # basically satisfied, at a call-back
    rating(h, 1, Rating.BASIC, at(1, 15), source=RatingSource.CALLBACK)
    i = petition(grid)  # unsatisfied in December, satisfied in January
    rating(i, 1, Rating.UNSATISFIED, at(12, 28, year=2025))
    rating(i, 2, Rating.SATISFIED, at(1, 5))
    j = petition(grid)  # rated at midnight that starts February
    rating(j, 1, Rating.SATISFIED, at(2, 1, 0))
    m = petition(grid)  # unsatisfied, no reopening
    rating(m, 1, Rating.UNSATISFIED, at(1, 25))
    lone = petition(other)
    rating(lone, 1, Rating.SATISFIED, at(1, 25))
    return tree["DS0"]


def test_a_month_runs_from_midnight_to_midnight_in_beijing_time():
    start, end = month_bounds(2026, 12)
    assert start == datetime(2026, 12, 1, tzinfo=SH) and end == datetime(2027, 1, 1, tzinfo=SH)
    assert start.astimezone(ZoneInfo("UTC")).hour == 16


def test_the_response_rate_counts_acceptances_due_in_the_month_without_returns(history):
    january = response_rate(area=history, year=2026, month=1, now=at(3, 1))
    assert (january.numerator, january.denominator) == (3, 6)
    assert january.value == Decimal("0.5000")
    february = response_rate(area=history, year=2026, month=2, now=at(3, 1))
    assert (february.numerator, february.denominator) == (0, 1)


def test_an_acceptance_not_yet_due_is_not_counted(history):
    before_k_is_due = response_rate(area=history, year=2026, month=1, now=at(1, 29))
    assert (before_k_is_due.numerator, before_k_is_due.denominator) == (3, 5)


def test_the_resolution_rate_counts_each_petitions_outcome_of_the_month(history):
    january = resolution_rate(area=history, year=2026, month=1)
    assert (january.numerator, january.denominator) == (3, 4)
    february = resolution_rate(area=history, year=2026, month=2)
    assert (february.numerator, february.denominator) == (1, 1)


def test_satisfaction_weighs_basically_satisfied_for_the_latest_and_every_round(history):
    latest = satisfaction_rate(area=history, year=2026, month=1, rounds=LATEST_ROUND, basic_weight=Decimal("0.5"))
    assert (latest.numerator, latest.denominator) == (Decimal("2.5"), 4)
    every = satisfaction_rate(area=history, year=2026, month=1, rounds=EVERY_ROUND, basic_weight=Decimal("0.5"))
    assert (every.numerator, every.denominator) == (Decimal("2.5"), 5)
    assert every.value == Decimal("0.5000")


@override_settings(SATISFACTION_BASIC_WEIGHT=0.8)
def test_the_weight_of_basically_satisfied_is_a_setting(history):
    latest = satisfaction_rate(area=history, year=2026, month=1)
    assert latest.numerator == Decimal("2.8") and latest.denominator == 4


def test_an_area_with_nothing_counted_has_no_rate(history, tree):
    empty = response_rate(area=tree["DS1C0"], year=2026, month=1, now=at(3, 1))
    assert (empty.denominator, empty.value) == (0, None)
