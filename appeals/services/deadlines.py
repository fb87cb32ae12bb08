"""Deadlines: which limit applies, when the clock runs out, and the 80% reminder point."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from appeals.models import Petition, Tier, TimeLimit, Urgency
from governance.workcalendar import TimeUnit, deadline_after, working_time_between

REMINDER_FRACTION = Decimal("0.8")
_LIMITS_TTL_SECONDS = 60.0


@dataclass(frozen=True)
class Limit:
    amount: Decimal
    unit: str


@dataclass(frozen=True)
class TierLimits:
    accept: Limit
    handle: Limit


def _limit(amount: str, unit: str) -> Limit:
    return Limit(Decimal(amount), unit)


# Used when the admin-editable table has no row for a case: a grid accepts within 2 working hours
# and handles within 3 working days; upper tiers get a little longer.
DEFAULT_LIMITS: dict[int, TierLimits] = {
    Tier.GRID: TierLimits(_limit("2", TimeUnit.WORKING_HOURS), _limit("3", TimeUnit.WORKING_DAYS)),
    Tier.COMMUNITY: TierLimits(_limit("4", TimeUnit.WORKING_HOURS), _limit("5", TimeUnit.WORKING_DAYS)),
    Tier.STREET: TierLimits(_limit("1", TimeUnit.WORKING_DAYS), _limit("7", TimeUnit.WORKING_DAYS)),
    Tier.DISTRICT: TierLimits(_limit("1", TimeUnit.WORKING_DAYS), _limit("10", TimeUnit.WORKING_DAYS)),
}
# Emergencies run on the clock that never stops, whatever the table says.
EMERGENCY_LIMITS = TierLimits(_limit("1", TimeUnit.EMERGENCY_HOURS), _limit("24", TimeUnit.EMERGENCY_HOURS))

# (category, mode, tier) → [(effective from, limits), …] oldest first.
_cache: dict[tuple[int | None, str, int], list[tuple[datetime, TierLimits]]] = {}
_cache_loaded_at = 0.0


def limits_cache_clear() -> None:
    global _cache_loaded_at
    _cache_loaded_at = 0.0


def _table() -> dict[tuple[int | None, str, int], list[tuple[datetime, TierLimits]]]:
    """The TimeLimit table, re-read at most once a minute: deadlines are set on every transition."""
    global _cache, _cache_loaded_at
    if time.monotonic() - _cache_loaded_at > _LIMITS_TTL_SECONDS:
        table: dict[tuple[int | None, str, int], list[tuple[datetime, TierLimits]]] = {}
        for row in TimeLimit.objects.order_by("effective_from", "pk"):
            table.setdefault((row.category_id, row.handling_mode, row.tier), []).append(
                (
                    row.effective_from,
                    TierLimits(Limit(row.accept_amount, row.accept_unit), Limit(row.handle_amount, row.handle_unit)),
                )
            )
        _cache = table
        _cache_loaded_at = time.monotonic()
    return _cache


def _in_force(versions: list[tuple[datetime, TierLimits]], at: datetime) -> TierLimits | None:
    found = None
    for effective_from, limits in versions:
        if effective_from > at:
            break
        found = limits
    return found


def limits_for(
    *,
    category_id: int | None,
    handling_mode: str,
    tier: int,
    urgency: str = Urgency.NORMAL,
    at: datetime | None = None,
) -> TierLimits:
    """The limits in force at `at` (now by default) for a petition of this kind at `tier`."""
    if urgency == Urgency.EMERGENCY:
        return EMERGENCY_LIMITS
    table = _table()
    at = at or timezone.now()
    for key in (
        (category_id, handling_mode, tier),
        (category_id, "", tier),
        (None, handling_mode, tier),
        (None, "", tier),
    ):
        limits = _in_force(table.get(key, ()), at)
        if limits is not None:
            return limits
    return DEFAULT_LIMITS[tier]


def reminder_point(start: datetime, deadline: datetime, unit: str) -> datetime:
    """When 80% of the allowed time has passed, counted in the limit's own kind of time."""
    if unit in (TimeUnit.WORKING_HOURS, TimeUnit.WORKING_DAYS):
        worked = working_time_between(start, deadline)
        hours = Decimal(worked.total_seconds()) / Decimal(3600) * REMINDER_FRACTION
        return deadline_after(start, hours.quantize(Decimal("0.0001")), TimeUnit.WORKING_HOURS)
    return start + (deadline - start) * float(REMINDER_FRACTION)


def start_clock(petition: Petition, *, phase: str, at: datetime) -> list[str]:
    """Start the petition's clock for `phase` ("accept" or "handle") at its current tier."""
    tier_limits = limits_for(
        category_id=petition.category_id,
        handling_mode=petition.handling_mode,
        tier=petition.tier or Tier.GRID,
        urgency=petition.urgency,
        at=at,
    )
    limit = tier_limits.accept if phase == "accept" else tier_limits.handle
    deadline = deadline_after(at, limit.amount, limit.unit)
    petition.clock_started_at = at
    petition.deadline_at = deadline
    petition.remind_at = reminder_point(at, deadline, limit.unit)
    return ["clock_started_at", "deadline_at", "remind_at"]


def stop_clock(petition: Petition) -> list[str]:
    petition.deadline_at = None
    petition.remind_at = None
    return ["deadline_at", "remind_at"]
