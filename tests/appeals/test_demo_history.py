"""appeals.demo.seed_history at a small scale: two years of consistent, seasonal, repeat-linked petitions."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings

from appeals.demo import DEFAULT_PETITIONS, delete_history, history_start, seed_history
from appeals.lifecycle import event_status_pairs
from appeals.models import (
    OPEN_STATUSES,
    TIMED_STATUSES,
    Assignment,
    AssignmentRole,
    Callback,
    Channel,
    EventType,
    ExtensionRequest,
    HandlingRound,
    Petition,
    PetitionEvent,
    PetitionRating,
    RatingSource,
    Status,
)
from appeals.services.deadlines import limits_cache_clear
from governance import demo as governance_demo
from grids import demo as grids_demo
from grids.models import Area

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
SCALE = 0.05
SUMMER, WINTER = {6, 7, 8}, {12, 1, 2}


@pytest.fixture
def district(db):
    grids_demo.seed_areas(grids_demo.generate_areas(seed=7, scale=SCALE))
    district = Area.objects.get(code=grids_demo.DISTRICT_CODE)
    departments = governance_demo.seed_departments(district)
    governance_demo.seed_staff(district=district, departments=departments, seed=7)
    limits_cache_clear()
    return district


def _seed(seed: int = 7) -> dict:
    with time_machine.travel(NOW, tick=False):
        return seed_history(seed=seed, scale=SCALE)


def _snapshot() -> list[tuple]:
    return list(
        Petition.objects.order_by("tracking_no").values_list(
            "tracking_no", "title", "category__code", "status", "created_at", "resolved_at", "area_path"
        )
    )


def _local_month(moment: datetime) -> int:
    return moment.astimezone(grids_demo_tz()).month


def grids_demo_tz():
    from governance.workcalendar import CALENDAR_TZ

    return CALENDAR_TZ


def test_it_writes_two_years_of_petitions_inside_the_district(district):
    counts = _seed()
    petitions = list(Petition.objects.select_related("grid", "community", "street", "microgrid"))
    assert counts["petitions"] == len(petitions) >= 1000
    # From 1 November 2024 (Beijing time): the 24 months before November 2026, and November so far.
    start = datetime(2024, 11, 1, tzinfo=grids_demo_tz())
    assert history_start(NOW) == start
    assert all(start <= p.created_at <= NOW for p in petitions)
    months = {(p.created_at.astimezone(grids_demo_tz()).year, _local_month(p.created_at)) for p in petitions}
    assert len(months) == 25
    # The last 365 days hold DEFAULT_PETITIONS × scale (repeats come on top of the planned roots).
    last_year = sum(1 for p in petitions if p.created_at > NOW - timedelta(days=365))
    assert 0.8 * DEFAULT_PETITIONS * SCALE <= last_year <= 1.3 * DEFAULT_PETITIONS * SCALE
    for p in petitions:
        assert p.area_path.startswith(district.path)
        assert p.area_path.startswith(p.grid.path) and p.grid.path.startswith(p.community.path)
        assert p.community.path.startswith(p.street.path)
        assert p.microgrid is None or p.area_path == p.microgrid.path
    channels = Counter(p.channel for p in petitions)
    assert channels.most_common(1)[0][0] == Channel.MOBILE
    assert channels[Channel.HOTLINE] > channels[Channel.PATROL] > channels[Channel.DOORPLATE]


def test_statuses_fields_and_timelines_agree(district):
    _seed()
    events: dict[int, list[PetitionEvent]] = {}
    for event in PetitionEvent.objects.order_by("petition_id", "created_at", "id"):
        events.setdefault(event.petition_id, []).append(event)
    callbacks = set(Callback.objects.values_list("petition_id", flat=True))
    leads = set(Assignment.objects.filter(role=AssignmentRole.LEAD).values_list("petition_id", flat=True))
    for p in Petition.objects.all():
        timeline = events[p.pk]
        assert timeline[0].type == EventType.SUBMITTED and timeline[0].to_status == Status.SUBMITTED
        assert timeline[0].created_at == p.created_at
        assert timeline[-1].to_status == p.status
        assert timeline[-1].to_tier == p.tier
        previous = Status.SUBMITTED
        for before, after in zip(timeline, timeline[1:], strict=False):
            assert before.created_at <= after.created_at
            if after.from_status:
                assert after.from_status == previous, (p.tracking_no, [e.type for e in timeline])
            previous = after.to_status
        assert p.handler_area_id or p.handler_department_id
        if p.status in (Status.RESOLVED, Status.CLOSED):
            assert p.resolved_at is not None and p.deadline_at is None and p.reply
        if p.status == Status.CLOSED:
            assert p.closed_at is not None and (p.rating or p.pk in callbacks)
        if p.status in TIMED_STATUSES and not (p.escalated_on_deadline and p.supervised and p.tier == 4):
            assert p.deadline_at is not None and p.remind_at is not None
        if p.status == Status.DISPATCHED:
            assert p.handler_department_id and p.pk in leads and p.tier >= 3
        if p.accepted_at:
            assert p.accepted_at >= p.created_at


def test_the_mix_of_outcomes_is_realistic(district):
    _seed()
    older = Petition.objects.filter(created_at__lt=NOW - timedelta(days=30))
    done = older.filter(status__in=[Status.RESOLVED, Status.CLOSED]).count()
    assert done / older.count() >= 0.95
    ratings = Counter(Petition.objects.exclude(rating="").values_list("rating", flat=True))
    assert (ratings["satisfied"] + ratings["basic"]) / sum(ratings.values()) >= 0.9
    assert Petition.objects.filter(tier__gte=2).exists()
    assert Assignment.objects.exists()
    assert Callback.objects.exists()
    assert Petition.objects.filter(escalated_on_deadline=True).exists()
    assert Petition.objects.filter(status__in=OPEN_STATUSES, created_at__gte=NOW - timedelta(days=21)).exists()


def test_repeats_are_linked_to_the_first_petition_of_their_cluster(district):
    _seed()
    repeats = list(Petition.objects.filter(repeat_of__isnull=False).select_related("repeat_of"))
    assert repeats
    for repeat in repeats:
        root = repeat.repeat_of
        assert root.repeat_of_id is None and root.category_id == repeat.category_id
        assert root.created_at < repeat.created_at <= root.created_at + timedelta(days=settings.REPEAT_WINDOW_DAYS)
        assert repeat.events.filter(type=EventType.REPEAT_LINKED, extra__repeat_of=root.pk).exists()
    counted = Counter(repeat.repeat_of_id for repeat in repeats)
    assert all(Petition.objects.get(pk=pk).repeat_count == n for pk, n in counted.items())


def test_it_follows_the_seasons(district):
    _seed()

    def by_season(code: str) -> tuple[int, int]:
        months = [
            _local_month(at) for at in Petition.objects.filter(category__code=code).values_list("created_at", flat=True)
        ]
        return sum(m in SUMMER for m in months), sum(m in WINTER for m in months)

    barbecue_summer, barbecue_winter = by_season("0107")
    assert barbecue_summer > 2 * barbecue_winter
    heating_summer, heating_winter = by_season("1301")
    assert heating_winter > 0 and heating_summer == 0


def test_topics_follow_their_trend_year_on_year(district):
    _seed()
    year_ago = NOW - timedelta(days=365)

    def by_year(code: str) -> tuple[int, int]:
        moments = list(Petition.objects.filter(category__code=code).values_list("created_at", flat=True))
        return sum(at > year_ago for at in moments), sum(at <= year_ago for at in moments)

    noise_this_year, noise_year_before = by_year("0301")  # construction noise: trend 1.6
    assert noise_this_year > noise_year_before
    heating_this_year, heating_year_before = by_year("1301")  # heating: trend 0.75
    assert heating_this_year < heating_year_before


def test_it_is_deterministic_for_a_seed_and_can_be_deleted(district):
    _seed()
    first = _snapshot()
    assert delete_history(district) == len(first)
    assert not Petition.objects.exists() and not PetitionEvent.objects.exists()
    _seed()
    assert _snapshot() == first
    delete_history(district)
    _seed(seed=8)
    assert _snapshot() != first


def test_every_event_the_demo_writes_is_a_move_of_the_transition_table(district):
    _seed()
    legal = event_status_pairs()
    written = set(PetitionEvent.objects.values_list("type", "from_status", "to_status").distinct())
    drift = sorted((kind, before, after) for kind, before, after in written if (before, after) not in legal[kind])
    assert drift == []
    # The demo takes the moves that matter to the reports, so the check covers them.
    kinds = {kind for kind, _before, _after in written}
    assert {
        EventType.AUTO_ESCALATED,
        EventType.ESCALATED,
        EventType.RETURNED,
        EventType.REOPENED,
        EventType.WHISTLED,
        EventType.EXTENSION_GRANTED,
        EventType.CALLBACK,
    } <= kinds


def test_the_demo_writes_the_history_the_services_write(district):
    _seed()
    petitions = {p.pk: p for p in Petition.objects.all()}
    rounds = Counter(HandlingRound.objects.values_list("petition_id", flat=True))
    assert all(p.round_count == rounds[pk] for pk, p in petitions.items())
    assert HandlingRound.objects.filter(accepted_at__isnull=False).count() > 0.9 * HandlingRound.objects.count()
    assert not HandlingRound.objects.filter(accept_due_at__isnull=True).exists()
    # Every event carries the deadline in force; the last one leaves the petition's own deadline.
    last: dict[int, PetitionEvent] = {}
    for event in PetitionEvent.objects.exclude(type=EventType.REMINDED).order_by("created_at", "id"):
        last[event.petition_id] = event
    for pk, p in petitions.items():
        if p.status in TIMED_STATUSES:
            assert last[pk].deadline_after == p.deadline_at, p.tracking_no
    assert PetitionEvent.objects.filter(type=EventType.ACCEPTED, on_time__isnull=False).count() == (
        PetitionEvent.objects.filter(type=EventType.ACCEPTED).count()
    )
    assert PetitionEvent.objects.filter(type=EventType.AUTO_ESCALATED, on_time=True).count() == 0
    # Ratings: one row per rating event, the reopened ones kept, one latest per rated petition.
    rated = PetitionEvent.objects.filter(type=EventType.RATED).count()
    assert PetitionRating.objects.filter(source=RatingSource.RESIDENT).count() == rated
    latest = Counter(PetitionRating.objects.filter(is_latest=True).values_list("petition_id", flat=True))
    assert set(latest.values()) == {1}
    assert PetitionRating.objects.filter(is_latest=False, rating="unsatisfied").exists()
    granted = ExtensionRequest.objects.filter(status="granted")
    assert granted.exists()
    assert all(r.old_deadline < r.new_deadline for r in granted)
