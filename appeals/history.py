"""A petition's history rows derived from its timeline: deadlines per event, rounds, ratings.

The transition services write these rows as they go (`appeals.services._base`). Two writers do not
go through the services and derive the same rows from the events instead: the demo's bulk history
(`appeals.demo`) and the migration that converted the rows written before the history existed.
`tests/appeals/test_history_replay.py` checks that a replay of the services' events gives what the
services wrote, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from appeals.models import CallbackResult, EventType, HandlingMode, Rating, RatingSource, Status, Tier

# Events that start a handling round: an acceptance clock starts at a (new) handling unit.
ROUND_STARTS = frozenset(
    {
        EventType.ROUTED,
        EventType.PLACED,
        EventType.REROUTED,
        EventType.ESCALATED,
        EventType.AUTO_ESCALATED,
        EventType.REOPENED,
    }
)
CLOCK_ENDING_EVENTS = frozenset(
    {
        EventType.ACCEPTED,
        EventType.RESOLVED,
        EventType.ESCALATED,
        EventType.AUTO_ESCALATED,
        EventType.WHISTLED,
        EventType.RETURNED,
        EventType.MERGED,
    }
)
RATINGS = frozenset(Rating.values)


@dataclass
class Round:
    number: int
    tier: int
    handler_area_code: str | None
    started_at: datetime
    start_event: str
    accept_due_at: datetime | None
    accepted_at: datetime | None = None
    responded_at: datetime | None = None
    handle_due_at: datetime | None = None
    resolved_at: datetime | None = None
    ended_at: datetime | None = None
    end_event: str = ""


@dataclass
class RatingRow:
    round_number: int
    rating: str
    source: str
    rated_at: datetime
    is_latest: bool = False


@dataclass
class Replay:
    rounds: list[Round] = field(default_factory=list)
    ratings: list[RatingRow] = field(default_factory=list)
    deadline_at: datetime | None = None  # the deadline in force after the last event


# (phase "accept"/"handle", tier, handling mode, start) → deadline
DeadlineFor = Callable[[str, int, str, datetime], datetime]


def starts_round(event: Any) -> bool:
    """An acceptance clock starts at a new unit (an escalation at the district changes no tier)."""
    if event.type not in ROUND_STARTS or event.to_status != Status.ASSIGNED:
        return False
    escalation = event.type in (EventType.ESCALATED, EventType.AUTO_ESCALATED)
    return not (escalation and event.from_tier == event.to_tier)


def replay(events: Iterable[Any], *, deadline_for: DeadlineFor, mode: str, extensions: dict[int, datetime]) -> Replay:
    """Walk one petition's events (oldest first) and derive its history rows.

    Sets `deadline_in_force`, `deadline_after` and `on_time` on each event, as `_base.build_event`
    does. `deadline_for` gives the deadline of a clock started at a tier, in a handling mode, at a
    moment (with the limits in force then); `mode` is the handling mode the petition started with
    (whistling to several departments makes it joint, starting to handle may choose another);
    `extensions` maps each granted extension request's id to its new deadline.
    """
    result = Replay()
    deadline: datetime | None = None
    rated = False
    for event in events:
        in_force = deadline
        kind, at, extra = event.type, event.created_at, event.extra or {}
        current = result.rounds[-1] if result.rounds else None
        if kind == EventType.HANDLING and extra.get("handling_mode"):
            mode = extra["handling_mode"]
        elif kind == EventType.WHISTLED and extra.get("assisting"):
            mode = HandlingMode.JOINT
        if starts_round(event):
            deadline = deadline_for("accept", event.to_tier or Tier.GRID, mode, at)
            if current is not None and current.ended_at is None:
                current.ended_at, current.end_event = at, kind
            area = extra.get("area") or (current.handler_area_code if current else None)
            current = Round(len(result.rounds) + 1, event.to_tier or Tier.GRID, area, at, kind, deadline)
            result.rounds.append(current)
            if kind == EventType.REOPENED:
                rated = False
        elif kind == EventType.AUTO_ESCALATED and event.from_tier == event.to_tier:
            deadline = None  # at the district: overdue and supervised, the clock stops
        elif kind == EventType.AUTO_ESCALATED and event.to_status == Status.DISPATCHED:
            deadline = deadline_for("handle", event.to_tier or Tier.GRID, mode, at)
            if current is not None:
                current.handle_due_at = deadline
        elif kind in (EventType.ACCEPTED, EventType.WHISTLED):
            deadline = deadline_for("handle", event.to_tier or Tier.GRID, mode, at)
            if current is not None:
                if kind == EventType.ACCEPTED:
                    current.accepted_at = current.accepted_at or at
                    current.responded_at = current.responded_at or at
                current.handle_due_at = deadline
        elif kind == EventType.REPORTED_IN:
            if current is not None:
                current.responded_at = current.responded_at or at
        elif kind == EventType.RESOLVED:
            deadline = None
            if current is not None:
                current.resolved_at = current.resolved_at or at
                current.responded_at = current.responded_at or at
        elif kind == EventType.RETURNED or (kind == EventType.MERGED and event.to_status == Status.MERGED):
            deadline = None
            if current is not None and current.ended_at is None:
                current.ended_at, current.end_event = at, kind
        elif kind == EventType.EXTENSION_GRANTED:
            granted = extensions.get(extra.get("request_id"))
            if granted is not None:
                deadline = granted
                if current is not None:
                    if event.to_status == Status.ASSIGNED:
                        current.accept_due_at = deadline
                    else:
                        current.handle_due_at = deadline
        elif kind == EventType.RATED:
            rating = extra.get("rating")
            if rating in RATINGS:
                result.ratings.append(RatingRow(len(result.rounds), rating, RatingSource.RESIDENT, at))
                rated = True
        elif kind == EventType.CALLBACK:
            answer = extra.get("result")
            if answer in RATINGS and answer != CallbackResult.UNREACHABLE and not rated:
                result.ratings.append(RatingRow(len(result.rounds), answer, RatingSource.CALLBACK, at))
                rated = True
        event.deadline_in_force = in_force
        event.deadline_after = deadline
        event.on_time = at <= in_force if in_force is not None and kind in CLOCK_ENDING_EVENTS else None
    if result.ratings:
        result.ratings[-1].is_latest = True
    result.deadline_at = deadline
    return result
