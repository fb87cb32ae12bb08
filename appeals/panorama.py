"""一屏全景: the live figures of one district or street for its command centre's wall screen.

Read-only. Every query starts from `petitions_visible_to(user)` narrowed to the area's subtree by
its level column, so a street sees its own street only, and each block is one grouped query.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from appeals.lifecycle import ACTIVE, IN_HAND
from appeals.models import Channel, EventType, Petition, PetitionEvent, Status, Tier, overdue_condition
from appeals.selectors import LEVEL_FIELDS, petitions_visible_to
from appeals.workbench import CHILD_COLUMN, day_bounds
from governance.models import Role
from governance.privacy import mask_text
from governance.scoping import scope_for
from grids.models import Area, AreaLevel

TICKER_ROWS = 12
TOP_CATEGORIES = 8
ATTENTION_ROWS = 12
# The events a command centre watches scroll by.
TICKER_EVENTS = (EventType.SUBMITTED, EventType.ESCALATED, EventType.AUTO_ESCALATED, EventType.RETURNED)


def may_watch(user: Any, area: Area) -> bool:
    """The panorama is the district's and each street's: their command centres (and administrators)."""
    scope = scope_for(user)
    if area.level > AreaLevel.STREET:
        return False
    if scope.sees_all:
        return True
    return scope.has_role(Role.STREET_COMMAND, Role.DISTRICT_CENTRE) and scope.sees_area(area)


def in_area(user: Any, area: Area) -> QuerySet[Petition]:
    """The user's petitions located in the area's subtree."""
    rows = petitions_visible_to(user)
    column = LEVEL_FIELDS.get(area.level)
    if column:
        return rows.filter(**{column: area.pk})
    return rows.filter(area_path__startswith=area.path)


def state_counts(user: Any, area: Area, *, now: datetime) -> dict[str, Any]:
    """Open petitions by state and by tier (one grouped query), with overdue and supervised totals."""
    rows = (
        in_area(user, area)
        .filter(status__in=sorted(ACTIVE))
        .values("status", "tier")
        .annotate(
            n=Count("pk"),
            overdue=Count("pk", filter=overdue_condition(now)),
            supervised=Count("pk", filter=Q(supervised=True)),
        )
    )
    statuses = [s for s in Status if s in ACTIVE]
    tiers = list(Tier)
    grid = {status: {tier: 0 for tier in tiers} for status in statuses}
    total = overdue = supervised = 0
    for row in rows:
        if row["tier"] in grid[row["status"]]:
            grid[row["status"]][row["tier"]] += row["n"]
        total += row["n"]
        overdue += row["overdue"]
        supervised += row["supervised"]
    return {
        "tiers": [(tier, tier.label) for tier in tiers],
        "rows": [
            {
                "status": status,
                "label": Status(status).label,
                "cells": [grid[status][t] for t in tiers],
                "total": sum(grid[status].values()),
            }
            for status in statuses
        ],
        "total": total,
        "overdue": overdue,
        "supervised": supervised,
    }


def intake_today(user: Any, area: Area, *, now: datetime) -> dict[str, Any]:
    """Today's new petitions by channel (Beijing day)."""
    start, _end = day_bounds(now)
    counts = dict(
        in_area(user, area)
        .filter(created_at__gte=start, created_at__lte=now)
        .values_list("channel")
        .annotate(n=Count("pk"))
    )
    channels = [{"key": c.value, "label": str(c.label), "count": counts.get(c.value, 0)} for c in Channel]
    return {"channels": channels, "total": sum(counts.values())}


def top_categories(user: Any, area: Area, *, since: datetime) -> list[dict[str, Any]]:
    rows = (
        in_area(user, area)
        .filter(created_at__gte=since)
        .values("category__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "category__name")[:TOP_CATEGORIES]
    )
    return [{"label": row["category__name"] or "—", "count": row["n"]} for row in rows]


def units_by_overdue(user: Any, area: Area, *, now: datetime) -> list[dict[str, Any]]:
    """The units one level below, most overdue first."""
    column = CHILD_COLUMN.get(area.level)
    if column is None:
        return []
    names = dict(Area.objects.filter(parent=area).values_list("pk", "name"))
    rows = (
        in_area(user, area)
        .filter(status__in=sorted(ACTIVE), **{f"{column}__in": list(names)})
        .values(column)
        .annotate(open=Count("pk"), overdue=Count("pk", filter=overdue_condition(now)))
    )
    ranked = [{"name": names[row[column]], "open": row["open"], "overdue": row["overdue"]} for row in rows]
    ranked.sort(key=lambda row: (-row["overdue"], -row["open"], row["name"]))
    return ranked


def attention(user: Any, area: Area, *, now: datetime) -> list[Petition]:
    """Overdue or supervised open cases, oldest deadline first: where one-click transfer is used."""
    return list(
        in_area(user, area)
        .filter(status__in=sorted(ACTIVE))
        .filter(overdue_condition(now) | Q(supervised=True))
        .select_related("category", "handler_area", "handler_department")
        .only(
            "pk",
            "tracking_no",
            "title",
            "status",
            "tier",
            "deadline_at",
            "supervised",
            "escalated_on_deadline",
            "category__name",
            "handler_area__name",
            "handler_department__name",
        )
        .order_by("deadline_at", "pk")[:ATTENTION_ROWS]
    )


def ticker(user: Any, area: Area, *, now: datetime) -> list[dict[str, Any]]:
    """The newest submissions, escalations and returns of the last week in the area (titles masked)."""
    column = LEVEL_FIELDS.get(area.level)
    where = {f"petition__{column}": area.pk} if column else {"petition__area_path__startswith": area.path}
    if not may_watch(user, area):
        return []
    events = (
        PetitionEvent.objects.filter(type__in=TICKER_EVENTS, created_at__gte=now - timedelta(days=7), **where)
        .select_related("petition")
        .only("type", "created_at", "petition__tracking_no", "petition__title")
        .order_by("-created_at", "-pk")[:TICKER_ROWS]
    )
    return [
        {
            "at": event.created_at,
            "type": event.type,
            "label": EventType(event.type).label,
            "no": event.petition.tracking_no,
            "title": mask_text(event.petition.title),
        }
        for event in events
    ]


def panorama(user: Any, area: Area, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    day_start, _end = day_bounds(now)
    return {
        "states": state_counts(user, area, now=now),
        "intake": intake_today(user, area, now=now),
        "top_today": top_categories(user, area, since=day_start),
        "top_week": top_categories(user, area, since=day_start - timedelta(days=6)),
        "units": units_by_overdue(user, area, now=now),
        "attention": attention(user, area, now=now),
        "ticker": ticker(user, area, now=now),
        "now": now,
        "in_hand": IN_HAND,
    }
