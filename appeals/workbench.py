"""The staff home page's figures, per role: what this user acts on now, read-only.

Every figure starts from `petitions_visible_to(user)` (the user's subtree) and, for the work
waiting, `policy.todo_filter(user)` — the same rule as the worklist's 待办 tab — so a tile's count
is the number of rows its link lists. Each block is one grouped query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Max, Q
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appeals import policy
from appeals.filters import DUE_TODAY, PENDING_EXTENSION, due_today_condition, pending_extension_condition
from appeals.lifecycle import ACTIVE
from appeals.models import (
    Assignment,
    AssignmentStatus,
    Petition,
    Rating,
    Status,
    overdue_condition,
)
from appeals.selectors import petitions_visible_to
from governance.models import Role
from governance.scoping import scope_for
from governance.workcalendar import CALENDAR_TZ
from grids.models import Area, AreaLevel

# The column of `Petition` holding its area one level below each level (a unit table's rows).
CHILD_COLUMN = {
    AreaLevel.DISTRICT: "street_id",
    AreaLevel.STREET: "community_id",
    AreaLevel.COMMUNITY: "grid_id",
    AreaLevel.GRID: "microgrid_id",
}
TREND_DAYS = 14
RECENT_ROWS = 8


@dataclass(frozen=True)
class Tile:
    key: str
    label: Any
    count: int
    url: str
    tone: str = "primary"  # a Bootstrap colour: danger for overdue, warning for due today …


def list_url(**params: Any) -> str:
    """The worklist filtered as a tile means it (the 待办 tab unless said otherwise)."""
    params.setdefault("tab", "todo")
    return reverse("appeals:list") + "?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})


def day_bounds(now: datetime) -> tuple[datetime, datetime]:
    """Today in Beijing time, [midnight, next midnight)."""
    today = timezone.localtime(now, CALENDAR_TZ).date()
    start = datetime.combine(today, time(0), tzinfo=CALENDAR_TZ)
    return start, start + timedelta(days=1)


def todo_tiles(user: Any, *, now: datetime | None = None) -> list[Tile]:
    """The counts of the user's 待办, split by what the work is, in one aggregate query."""
    now = now or timezone.now()
    scope = scope_for(user)
    todo = petitions_visible_to(user).filter(policy.todo_filter(user))
    figures = todo.aggregate(
        total=Count("pk"),
        to_place=Count("pk", filter=Q(status=Status.INTAKE)),
        to_accept=Count("pk", filter=Q(status=Status.ASSIGNED)),
        to_start=Count("pk", filter=Q(status=Status.ACCEPTED)),
        to_handle=Count("pk", filter=Q(status=Status.PROCESSING)),
        returned=Count("pk", filter=Q(status=Status.RETURNED)),
        dispatched=Count("pk", filter=Q(status=Status.DISPATCHED)),
        disputes=Count("pk", filter=Q(status=Status.RESOLVED, rating=Rating.UNSATISFIED)),
        overdue=Count("pk", filter=overdue_condition(now)),
        due_today=Count("pk", filter=due_today_condition(now)),
        supervised=Count("pk", filter=Q(supervised=True)),
        extensions=Count("pk", filter=pending_extension_condition(user)),
    )
    tiles = [
        Tile("total", _("To do"), figures["total"], list_url()),
        Tile("overdue", _("Overdue"), figures["overdue"], list_url(overdue="on"), "danger"),
        Tile("due_today", _("Due today"), figures["due_today"], list_url(due=DUE_TODAY, sort="deadline"), "warning"),
    ]
    if scope.is_department_member and not scope.area_paths and not scope.sees_all:
        mine = my_parts(user, now=now)
        tone = "danger" if mine["overdue"] else "primary"
        tiles.insert(0, Tile("mine", _("Assigned to me"), mine["open"], list_url(handler="me"), tone))
        tiles.append(Tile("dispatched", _("Dispatched to us"), figures["dispatched"], list_url(status="dispatched")))
        return tiles
    tiles += [
        Tile("to_accept", _("To accept"), figures["to_accept"], list_url(status=Status.ASSIGNED)),
        Tile("to_start", _("Accepted, to start"), figures["to_start"], list_url(status=Status.ACCEPTED)),
        Tile("to_handle", _("Being handled"), figures["to_handle"], list_url(status=Status.PROCESSING)),
    ]
    if policy.actor_tier(user) >= 2 or scope.sees_all:
        tiles += [
            Tile("to_place", _("To place"), figures["to_place"], list_url(status=Status.INTAKE)),
            Tile("returned", _("Returned, to re-route"), figures["returned"], list_url(status=Status.RETURNED)),
            Tile("supervised", _("Supervised"), figures["supervised"], list_url(supervised="on"), "secondary"),
            Tile(
                "extensions",
                _("Extensions to decide"),
                figures["extensions"],
                list_url(pending=PENDING_EXTENSION),
                "warning",
            ),
        ]
    if policy.actor_tier(user) >= 3 or scope.sees_all:
        tiles.append(Tile("dispatched", _("Dispatched (吹哨)"), figures["dispatched"], list_url(status="dispatched")))
    tiles.append(Tile("disputes", _("Disputes"), figures["disputes"], list_url(status=Status.RESOLVED), "danger"))
    return tiles


def home_area(user: Any) -> Area | None:
    """The area a home page is about: the user's own (highest) post area, or the district."""
    scope = scope_for(user)
    if scope.sees_all:
        return Area.objects.filter(parent__isnull=True).order_by("code").first()
    if not scope.areas:
        return None
    _path, _level, area_id = min(scope.areas, key=lambda item: item[1])
    return Area.objects.filter(pk=area_id).first()


def unit_rows(user: Any, area: Area, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """The units one level below `area`: open, overdue, supervised and new this week, per unit."""
    column = CHILD_COLUMN.get(area.level)
    if column is None:
        return []
    now = now or timezone.now()
    week_ago = now - timedelta(days=7)
    children = list(Area.objects.filter(parent=area).order_by("code").only("pk", "code", "name", "level"))
    figures = {
        row[column]: row
        for row in petitions_visible_to(user)
        .filter(**{f"{column}__in": [child.pk for child in children]})
        .filter(Q(status__in=sorted(ACTIVE)) | Q(created_at__gte=week_ago))
        .values(column)
        .annotate(
            open=Count("pk", filter=Q(status__in=sorted(ACTIVE))),
            overdue=Count("pk", filter=overdue_condition(now)),
            supervised=Count("pk", filter=Q(supervised=True, status__in=sorted(ACTIVE))),
            week=Count("pk", filter=Q(created_at__gte=week_ago)),
        )
    }
    rows = []
    for child in children:
        row = figures.get(child.pk, {})
        rows.append(
            {
                "area": child,
                "open": row.get("open", 0),
                "overdue": row.get("overdue", 0),
                "supervised": row.get("supervised", 0),
                "week": row.get("week", 0),
            }
        )
    rows.sort(key=lambda row: (-row["overdue"], -row["open"], row["area"].code))
    return rows


def trend(user: Any, *, days: int = TREND_DAYS, now: datetime | None = None) -> dict[str, list]:
    """New petitions per day (Beijing dates) over the last `days` days, zeros included."""
    now = now or timezone.now()
    start, _end = day_bounds(now)
    start -= timedelta(days=days - 1)
    counts = dict(
        petitions_visible_to(user)
        .filter(created_at__gte=start, created_at__lt=now)
        .annotate(day=TruncDate("created_at", tzinfo=CALENDAR_TZ))
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    dates = [(start + timedelta(days=i)).date() for i in range(days)]
    return {"days": [d.strftime("%m-%d") for d in dates], "counts": [counts.get(d, 0) for d in dates]}


def recent_todo(user: Any, *, limit: int = RECENT_ROWS) -> list[Petition]:
    """The user's 待办 nearest their deadline first (no deadline last)."""
    return list(
        petitions_visible_to(user)
        .filter(policy.todo_filter(user))
        .select_related("category", "handler_area")
        .only(
            "pk",
            "tracking_no",
            "title",
            "status",
            "tier",
            "deadline_at",
            "escalated_on_deadline",
            "supervised",
            "category__name",
            "handler_area__name",
        )
        .order_by("deadline_at", "-pk")[:limit]
    )


def dispatched_cases(user: Any, *, limit: int = 10) -> list[dict[str, Any]]:
    """吹哨 cases the user's areas dispatched: each department's part (reported in? replied?)."""
    scope = scope_for(user)
    petitions = petitions_visible_to(user).filter(status=Status.DISPATCHED)
    if not scope.sees_all:
        petitions = petitions.filter(handler_area_id__in=[area_id for _p, _l, area_id in scope.areas])
    rows = list(
        petitions.select_related("handler_department")
        .only("pk", "tracking_no", "title", "deadline_at", "escalated_on_deadline", "handler_department__name")
        .order_by("deadline_at", "-pk")[:limit]
    )
    parts: dict[int, list[Assignment]] = {}
    for part in (
        Assignment.objects.filter(petition_id__in=[row.pk for row in rows])
        .exclude(status=AssignmentStatus.CANCELLED)
        .select_related("department")
        .order_by("role", "department__name")
    ):
        parts.setdefault(part.petition_id, []).append(part)
    return [{"petition": row, "parts": parts.get(row.pk, [])} for row in rows]


def department_parts(user: Any, *, now: datetime | None = None) -> dict[str, int]:
    """A department's open parts by state: to report in, reported in (to reply), overdue."""
    scope = scope_for(user)
    now = now or timezone.now()
    parts = Assignment.objects.filter(department_id__in=scope.department_ids, petition__status=Status.DISPATCHED)
    return parts.aggregate(
        to_report=Count("pk", filter=Q(status=AssignmentStatus.DISPATCHED)),
        to_reply=Count("pk", filter=Q(status=AssignmentStatus.REPORTED_IN)),
        replied=Count("pk", filter=Q(status=AssignmentStatus.REPLIED)),
        overdue=Count(
            "pk", filter=Q(status__in=[AssignmentStatus.DISPATCHED, AssignmentStatus.REPORTED_IN]) & _part_overdue(now)
        ),
        latest=Max("dispatched_at"),
    )


# The leader's list of open parts shows at most this many (unassigned first, then nearest deadline).
PART_ROWS = 20


def _part_overdue(now: datetime) -> Q:
    """`overdue_condition` seen from a department's part (its petition is dispatched: timed)."""
    return Q(petition__deadline_at__lte=now) | Q(
        petition__deadline_at__isnull=True, petition__escalated_on_deadline=True
    )


def _part_due_today(now: datetime) -> Q:
    _start, day_end = day_bounds(now)
    return Q(petition__deadline_at__gt=now, petition__deadline_at__lt=day_end)


def department_load(user: Any, *, now: datetime | None = None) -> dict[str, Any]:
    """The led departments' open parts per handler: held, of which overdue and due today.

    One grouped query over the open parts and one for the departments' staff; everyone posted to
    the departments gets a row (zeros included), a past holder who left keeps one while he holds
    parts, and the parts nobody holds are their own row ("unassigned").
    """
    from appeals.services.assigning import department_staff, staff_name

    led = scope_for(user).led_department_ids
    if not led:
        return {"rows": [], "unassigned": None, "total": 0}
    now = now or timezone.now()
    figures = {
        row["handler"]: row
        for row in Assignment.objects.filter(
            department_id__in=led, status__in=sorted(policy.OPEN_PARTS), petition__status=Status.DISPATCHED
        )
        .values("handler")
        .annotate(
            open=Count("pk"),
            overdue=Count("pk", filter=_part_overdue(now)),
            due_today=Count("pk", filter=_part_due_today(now)),
        )
    }
    staff = list(department_staff(led))
    known = {person.pk for person in staff}
    if missing := [pk for pk in figures if pk is not None and pk not in known]:
        staff += list(get_user_model().objects.filter(pk__in=missing))
    empty = {"open": 0, "overdue": 0, "due_today": 0}
    rows = [
        {"user": person, "name": staff_name(person), **empty, **_counts(figures.get(person.pk))} for person in staff
    ]
    rows.sort(key=lambda row: (-row["open"], -row["overdue"], row["name"]))
    unassigned = {**empty, **_counts(figures.get(None))}
    return {"rows": rows, "unassigned": unassigned, "total": sum(row["open"] for row in figures.values())}


def _counts(row: dict[str, Any] | None) -> dict[str, int]:
    return {key: row[key] for key in ("open", "overdue", "due_today")} if row else {}


def department_open_parts(user: Any, *, limit: int = PART_ROWS) -> list[Assignment]:
    """The led departments' open parts, the unassigned first, then the nearest deadline."""
    led = scope_for(user).led_department_ids
    return list(
        Assignment.objects.filter(
            department_id__in=led, status__in=sorted(policy.OPEN_PARTS), petition__status=Status.DISPATCHED
        )
        .select_related("petition", "department", "handler")
        .only(
            "pk",
            "role",
            "status",
            "department__name",
            "handler__username",
            "handler__first_name",
            "handler__last_name",
            "petition__tracking_no",
            "petition__title",
            "petition__deadline_at",
            "petition__escalated_on_deadline",
        )
        .order_by(F("handler").asc(nulls_first=True), F("petition__deadline_at").asc(nulls_last=True), "pk")[:limit]
    )


def petition_time_left(petition: Petition, now: datetime) -> tuple[str, str]:
    """`time_left` of a petition; a case escalated on its deadline with no clock is overdue."""
    if petition.deadline_at is None and petition.escalated_on_deadline:
        return str(_("Overdue")), "danger"
    return time_left(petition.deadline_at, now)


def part_time_left(part: Assignment, now: datetime) -> tuple[str, str]:
    """`petition_time_left` of the part's petition."""
    return petition_time_left(part.petition, now)


def my_open_parts(user: Any, *, limit: int = RECENT_ROWS) -> list[Assignment]:
    """The open parts assigned to the user, nearest deadline first (the handler's home)."""
    return list(
        Assignment.objects.filter(
            handler_id=getattr(user, "pk", None),
            status__in=sorted(policy.OPEN_PARTS),
            petition__status=Status.DISPATCHED,
        )
        .select_related("petition", "department")
        .only(
            "pk",
            "role",
            "status",
            "department__name",
            "petition__tracking_no",
            "petition__title",
            "petition__deadline_at",
            "petition__escalated_on_deadline",
        )
        .order_by(F("petition__deadline_at").asc(nulls_last=True), "pk")[:limit]
    )


def my_parts(user: Any, *, now: datetime | None = None) -> dict[str, int]:
    """The open parts assigned to the user: held, overdue, due today (the "assigned to me" tile)."""
    now = now or timezone.now()
    return Assignment.objects.filter(
        handler_id=getattr(user, "pk", None), status__in=sorted(policy.OPEN_PARTS), petition__status=Status.DISPATCHED
    ).aggregate(
        open=Count("pk"),
        overdue=Count("pk", filter=_part_overdue(now)),
        due_today=Count("pk", filter=_part_due_today(now)),
    )


def role_kind(user: Any) -> str:
    """Which home a user gets: grid, community, street, district or department."""
    scope = scope_for(user)
    if scope.sees_all or scope.has_role(Role.DISTRICT_CENTRE):
        return "district"
    if scope.has_role(Role.STREET_COMMAND):
        return "street"
    if scope.has_role(Role.COMMUNITY_SECRETARY, Role.COMMUNITY_WORKER):
        return "community"
    if scope.has_role(Role.GRID_WORKER, Role.MICROGRID_HEAD):
        return "grid"
    if scope.is_department_member:
        return "department"
    return "grid"


def time_left(deadline: datetime | None, now: datetime) -> tuple[str, str]:
    """The time to a deadline in words and its SLA colour: danger when past, warning within a day."""
    if deadline is None:
        return "", "secondary"
    seconds = (deadline - now).total_seconds()
    hours = abs(seconds) / 3600
    if hours < 1:
        amount = _("%(n)d min") % {"n": max(1, int(abs(seconds) // 60))}
    elif hours < 48:
        amount = _("%(n)d h") % {"n": int(hours)}
    else:
        amount = _("%(n)d days") % {"n": int(hours // 24)}
    if seconds < 0:
        return str(_("%(amount)s overdue") % {"amount": amount}), "danger"
    return str(_("%(amount)s left") % {"amount": amount}), "warning" if hours < 24 else "success"
