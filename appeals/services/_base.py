"""Shared plumbing of the transition services: locking, events, access checks, enqueueing."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.history import CLOCK_ENDING_EVENTS
from appeals.lifecycle import Move, check_move
from appeals.models import EventType, HandlingRound, Petition, PetitionEvent, PetitionRating, Tier
from governance.bulkwrite import bulk_update_rows
from governance.errors import NotFound
from governance.scoping import scope_for
from grids.models import Area, AreaLevel

logger = logging.getLogger(__name__)

SYSTEM = "system"

TIER_LEVEL = {
    Tier.GRID: AreaLevel.GRID,
    Tier.COMMUNITY: AreaLevel.COMMUNITY,
    Tier.STREET: AreaLevel.STREET,
    Tier.DISTRICT: AreaLevel.DISTRICT,
}
LEVEL_TIER = {level: tier for tier, level in TIER_LEVEL.items()}


def now():
    return timezone.now()


def lock(petition_id: int) -> Petition:
    """The petition row, locked until the transaction ends. Call inside `transaction.atomic`."""
    try:
        petition = (
            Petition.objects.select_for_update(of=("self",))
            .select_related("handler_area", "category")
            .get(pk=petition_id)
        )
    except Petition.DoesNotExist:
        raise NotFound(_("No such petition.")) from None
    remember_deadline(petition)
    return petition


def remember_deadline(petition: Petition) -> None:
    """Note the deadline in force before a step changes it (its event records both)."""
    petition._deadline_in_force = petition.deadline_at


def begin(petition_id: int, action: str) -> tuple[Petition, Move]:
    petition = lock(petition_id)
    return petition, check_move(petition.status, action)


def build_event(
    petition: Petition,
    event_type: str,
    *,
    actor: Any = None,
    actor_label: str = "",
    from_status: str = "",
    from_tier: int | None = None,
    note: str = "",
    extra: dict | None = None,
    at=None,
) -> PetitionEvent:
    """An unsaved event row describing the petition's state now (see `record`).

    It carries the deadline in force before the step and the one after it, and for a step that
    ends the clock whether it came in time.
    """
    at = at or now()
    in_force = getattr(petition, "_deadline_in_force", petition.deadline_at)
    petition._deadline_in_force = petition.deadline_at
    on_time = at <= in_force if in_force is not None and event_type in CLOCK_ENDING_EVENTS else None
    return PetitionEvent(
        petition=petition,
        type=event_type,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=actor_label or ("" if getattr(actor, "pk", None) else SYSTEM),
        from_status=from_status,
        to_status=petition.status,
        from_tier=from_tier,
        to_tier=petition.tier,
        note=note,
        extra=extra or {},
        created_at=at,
        deadline_in_force=in_force,
        deadline_after=petition.deadline_at,
        on_time=on_time,
    )


def record(petition: Petition, event_type: str, **fields: Any) -> PetitionEvent:
    event = build_event(petition, event_type, **fields)
    event.save()
    if event_type == EventType.RESOLVED:
        # The 12345 reply-back row commits with the resolution (docs/hotline.md, 回单).
        from appeals.services.hotline_reply import hotline_reply_owe

        hotline_reply_owe(petition, at=event.created_at)
    return event


def save(petition: Petition, fields: Iterable[str]) -> None:
    petition.save(update_fields=[*set(fields), "updated_at"])


def new_round(petition: Petition, event_type: str, *, at) -> HandlingRound:
    """The next handling round, starting now at the petition's tier and handler (unsaved).

    Call after the acceptance clock started: its deadline is the round's acceptance deadline.
    """
    petition.round_count += 1
    return HandlingRound(
        petition=petition,
        number=petition.round_count,
        tier=petition.tier or Tier.GRID,
        handler_area_id=petition.handler_area_id,
        started_at=at,
        start_event=event_type,
        accept_due_at=petition.deadline_at,
    )


_ROUND_STAMPS = frozenset({"accepted_at", "responded_at", "resolved_at", "ended_at"})


def _round_values(fields: dict[str, Any]) -> dict[str, Any]:
    # A stamp is written once: a second acceptance or response in the same round keeps the first.
    return {
        name: Coalesce(F(name), Value(value, output_field=DateTimeField())) if name in _ROUND_STAMPS else value
        for name, value in fields.items()
    }


def round_update(petition: Petition, **fields: Any) -> None:
    """Write `fields` on the petition's current round; `*_at` stamps already set are kept."""
    if petition.round_count:
        HandlingRound.objects.filter(petition_id=petition.pk, number=petition.round_count).update(
            **_round_values(fields)
        )


def round_start(petition: Petition, event_type: str, *, at) -> list[str]:
    """End the current round (the step passes the petition on) and start the next; fields changed."""
    round_end(petition, event_type, at=at)
    new_round(petition, event_type, at=at).save()
    return ["round_count"]


def round_end(petition: Petition, event_type: str, *, at) -> None:
    """The current round ends (a return, a merge, the next round) unless it already has."""
    HandlingRound.objects.filter(petition_id=petition.pk, number=petition.round_count, ended_at__isnull=True).update(
        ended_at=at, end_event=event_type
    )


def rating_record(petition: Petition, *, rating: str, source: str, at) -> PetitionRating:
    """Keep a rating of the current round; it becomes the petition's latest."""
    PetitionRating.objects.filter(petition_id=petition.pk, is_latest=True).update(is_latest=False)
    return PetitionRating.objects.create(
        petition=petition, round_number=petition.round_count, rating=rating, source=source, rated_at=at
    )


class Writes:
    """Where a transition's writes go: at once, or (`bulk=True`) collected and flushed together.

    A sweep over a batch of locked rows writes each row's update, event and notifications with one
    statement per kind instead of four round trips per row; the transition logic is the same.
    """

    def __init__(self, *, bulk: bool = False):
        self.bulk = bulk
        self._rows: dict[int, Petition] = {}
        self._fields: set[str] = set()
        self._events: list[PetitionEvent] = []
        self._notices: list[Any] = []
        self._round_ends: dict[tuple[Any, str], list[tuple[int, int]]] = {}
        self._round_updates: dict[tuple[tuple[str, Any], ...], list[tuple[int, int]]] = {}
        self._rounds: list[HandlingRound] = []

    def round_start(self, petition: Petition, event_type: str, *, at) -> list[str]:
        if not self.bulk:
            return round_start(petition, event_type, at=at)
        if petition.round_count:
            self._round_ends.setdefault((at, event_type), []).append((petition.pk, petition.round_count))
        self._rounds.append(new_round(petition, event_type, at=at))
        return ["round_count"]

    def round_update(self, petition: Petition, **fields: Any) -> None:
        if not self.bulk:
            round_update(petition, **fields)
        elif petition.round_count:
            key = tuple(sorted(fields.items()))
            self._round_updates.setdefault(key, []).append((petition.pk, petition.round_count))

    def save(self, petition: Petition, fields: Iterable[str]) -> None:
        if not self.bulk:
            save(petition, fields)
            return
        self._rows[petition.pk] = petition
        self._fields.update(fields)

    def record(self, petition: Petition, event_type: str, **fields: Any) -> None:
        if self.bulk:
            self._events.append(build_event(petition, event_type, **fields))
        else:
            record(petition, event_type, **fields)

    def notify(self, notice: Any) -> None:
        from appeals.services.notifications import notify_staff

        if self.bulk:
            self._notices.append(notice)
        else:
            notify_staff([notice])

    def flush(self) -> None:
        from appeals.services.notifications import notify_staff

        if self._rows:
            stamp = now()
            for petition in self._rows.values():
                petition.updated_at = stamp
            bulk_update_rows(Petition, list(self._rows.values()), [*sorted(self._fields), "updated_at"])
        for (at, event_type), keys in self._round_ends.items():
            _current_rounds(keys).filter(ended_at__isnull=True).update(ended_at=at, end_event=event_type)
        for fields, keys in self._round_updates.items():
            _current_rounds(keys).update(**_round_values(dict(fields)))
        if self._rounds:
            HandlingRound.objects.bulk_create(self._rounds)
        if self._events:
            PetitionEvent.objects.bulk_create(self._events)
        if self._notices:
            notify_staff(self._notices)
        self._rows, self._fields, self._events, self._notices = {}, set(), [], []
        self._round_ends, self._round_updates, self._rounds = {}, {}, []


def _current_rounds(keys: list[tuple[int, int]]):
    """The rounds (petition, number) of `keys`: one id list per round number (a few numbers), not
    one condition per pair (500 pairs cost the ORM ~1 s to resolve)."""
    by_number: dict[int, list[int]] = {}
    for petition_id, number in keys:
        by_number.setdefault(number, []).append(petition_id)
    condition = Q(pk__in=[])
    for number, petition_ids in sorted(by_number.items()):
        condition |= Q(number=number, petition_id__in=petition_ids)
    return HandlingRound.objects.filter(condition)


def area_chain(area: Area) -> dict[int, Area]:
    """The area and its ancestors, by level (one query)."""
    return {a.level: a for a in Area.objects.filter(code__in=area.ancestor_codes)}


def location_columns(area: Area) -> dict[str, Any]:
    """The petition's location columns for `area` (a micro-grid or any coarser area): one query."""
    chain = area_chain(area)
    return {
        "microgrid": chain.get(AreaLevel.MICROGRID),
        "grid": chain.get(AreaLevel.GRID),
        "community": chain.get(AreaLevel.COMMUNITY),
        "street": chain.get(AreaLevel.STREET),
        "area_path": area.path,
    }


def place_in_area(petition: Petition, area: Area) -> list[str]:
    """Set the petition's location columns from `area`; returns the fields changed."""
    columns = location_columns(area)
    for name, value in columns.items():
        setattr(petition, name, value)
    return list(columns)


def area_for_tier(petition: Petition, tier: int) -> Area | None:
    """The area that handles the petition at `tier`: its own grid, community, street or district."""
    if tier == Tier.GRID:
        return petition.grid
    if tier == Tier.COMMUNITY:
        return petition.community
    if tier == Tier.STREET:
        return petition.street
    district_code = petition.area_path.split("/", 1)[0] if petition.area_path else ""
    return Area.objects.filter(code=district_code, level=AreaLevel.DISTRICT).first()


# Until when (time.monotonic()) publishing is skipped after a broker failure, in this process.
_broker_down_until = 0.0
# The connection attribute holding the enqueue batch of the transaction in progress.
_BATCH_ATTRIBUTE = "appeals_enqueue_batch"


def broker_breaker_reset() -> None:
    """Try the broker again at the next enqueue (tests; an operator after an outage)."""
    global _broker_down_until
    _broker_down_until = 0.0


def _publish(task_name: str, args: tuple) -> None:
    """Send the task by name; a broker outage only logs, the row's sweeper finishes the work."""
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        return  # the broker failed moments ago: leave the work to the sweeper, answer at once
    from governance.celery import app

    try:
        # By name: the services never import the task modules (which import the services).
        app.signature(task_name, args=args).apply_async()
    except Exception:
        # One caller pays the broker's timeout; the next BROKER_RETRY_AFTER seconds don't.
        _broker_down_until = time.monotonic() + settings.BROKER_RETRY_AFTER
        logger.warning("Could not enqueue %s%r; the sweeper will pick it up.", task_name, args, exc_info=True)


class _EnqueueBatch:
    """The sends one transaction asked for; each (task, args) leaves once when it commits.

    Every enqueue registers its own `transaction.on_commit` callback, so a rolled-back savepoint
    drops exactly its own sends (Django discards them); the first callback that runs sends, the
    others with the same key return. A batch whose callbacks ran is spent: the next transaction
    starts a new one. A batch of a rolled-back transaction sent nothing and is simply reused.
    """

    def __init__(self) -> None:
        self.spent = False
        self.sent: set[tuple[str, tuple]] = set()

    def send(self, key: tuple[str, tuple]) -> None:
        self.spent = True
        if key in self.sent:
            return
        self.sent.add(key)
        _publish(*key)


def enqueue(task_name: str, *args: Any) -> None:
    """Send the task named `task_name` after commit (at once outside a transaction).

    The same task with the same arguments is sent once per transaction, however often a
    transaction asks (a sweep that writes 500 notifications nudges the sender once).
    """
    key = (task_name, args)
    connection = transaction.get_connection()
    batch = getattr(connection, _BATCH_ATTRIBUTE, None)
    if batch is None or batch.spent:
        batch = _EnqueueBatch()
        setattr(connection, _BATCH_ATTRIBUTE, batch)
    transaction.on_commit(partial(batch.send, key))


__all__ = ["EventType", "scope_for"]
