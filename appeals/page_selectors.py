"""What the staff petition page reads beyond the petition row (appeals.views.petition_detail).

The timeline in words, the rating rounds, internal notes, reply templates, the department picker's
groups and the placing suggestion. Reads only; every write goes through `appeals.services`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from appeals.models import (
    EventType,
    Petition,
    PetitionEvent,
    PetitionNote,
    PetitionRating,
    ReplyTemplate,
)
from governance.identity import person_name
from governance.models import Department, DepartmentKind, StaffPost
from governance.scoping import scope_for
from governance.workcalendar import CALENDAR_TZ
from grids.models import Area, AreaLevel

# Earlier petitions at the same address looked at for the placing suggestion (newest first).
SUGGEST_SAME_ADDRESS_LOOKBACK = 50
# Area names shorter than this are not matched inside an address ("一" would match everything).
SUGGEST_MIN_NAME_CHARS = 2


def local_minute(moment: datetime) -> str:
    """ "11月3日 09:12": Beijing time, month and day in the language's order."""
    local = moment.astimezone(CALENDAR_TZ)
    return _("%(month)s/%(day)s %(time)s") % {"month": local.month, "day": local.day, "time": local.strftime("%H:%M")}


@dataclass
class TimelineLine:
    event: PetitionEvent
    when: str
    unit: str
    role: str
    person: str
    verb: str
    detail: str


def _posts_by_user(user_ids: set[int]) -> dict[int, StaffPost]:
    """Each actor's post to name them by: an active one first, an area post before a department's."""
    chosen: dict[int, StaffPost] = {}
    if not user_ids:
        return chosen
    posts = (
        StaffPost.objects.filter(user_id__in=user_ids)
        .select_related("area", "department")
        .order_by("user_id", "-is_active", "area__level", "pk")
    )
    for post in posts:
        chosen.setdefault(post.user_id, post)
    return chosen


def timeline_in_words(events: list[PetitionEvent]) -> list[TimelineLine]:
    """ "11月3日 09:12 延安路街道 网格员 张三 签收": when, the acting unit, the role, the person, what.

    Three queries whatever the length: the actors' posts, the areas and the departments named.
    """
    posts = _posts_by_user({e.actor_id for e in events if e.actor_id})
    area_codes = {e.extra.get("area") for e in events if isinstance(e.extra, dict) and e.extra.get("area")}
    areas = dict(Area.objects.filter(code__in=area_codes).values_list("code", "name")) if area_codes else {}
    department_ids: set[int] = set()
    for e in events:
        extra = e.extra if isinstance(e.extra, dict) else {}
        for key in ("lead", "department_id"):
            if isinstance(extra.get(key), int):
                department_ids.add(extra[key])
        department_ids.update(d for d in extra.get("assisting") or () if isinstance(d, int))
    departments = (
        dict(Department.objects.filter(pk__in=department_ids).values_list("pk", "name")) if department_ids else {}
    )
    lines = []
    for e in events:
        extra = e.extra if isinstance(e.extra, dict) else {}
        unit = role = ""
        if e.actor_id:
            post = posts.get(e.actor_id)
            if post is not None:
                unit = (post.area.name if post.area_id else post.department.name if post.department_id else "") or ""
                role = post.get_role_display()
            person = person_name(e.actor)
        else:
            person = e.actor_label_display
        detail = ""
        if e.type == EventType.WHISTLED and extra.get("lead") in departments:
            detail = _("lead: %(lead)s") % {"lead": departments[extra["lead"]]}
            assisting = [departments[d] for d in extra.get("assisting") or () if d in departments]
            if assisting:
                detail += _("; assisting: %(names)s") % {"names": "、".join(assisting)}
        elif extra.get("department_id") in departments:
            detail = departments[extra["department_id"]]
        elif extra.get("area") in areas:
            detail = "→ " + areas[extra["area"]]
        elif extra.get("into"):
            detail = "→ " + str(extra["into"])
        elif extra.get("absorbed"):
            detail = str(extra["absorbed"])
        lines.append(
            TimelineLine(
                event=e,
                when=local_minute(e.created_at),
                unit=unit,
                role=str(role),
                person=person,
                verb=e.get_type_display(),
                detail=detail,
            )
        )
    return lines


def rating_rounds(petition: Petition) -> list[PetitionRating]:
    """Every rating of every round, oldest first (the resident's and the call-backs')."""
    return list(petition.ratings.order_by("round_number", "rated_at", "pk"))


def internal_notes(petition: Petition) -> list[PetitionNote]:
    """The petition's internal notes, newest first: for the staff page only."""
    return list(PetitionNote.objects.filter(petition=petition).select_related("author").order_by("-created_at", "-pk"))


def reply_templates_for(petition: Petition) -> list[ReplyTemplate]:
    """Active templates for the petition's category first, then those for any category, of its district."""
    templates = ReplyTemplate.objects.filter(is_active=True).select_related("district")
    category = Q(category__isnull=True)
    if petition.category_id:
        category |= Q(category_id=petition.category_id)
    found = [
        t
        for t in templates.filter(category)
        if t.district_id is None or (petition.area_path or "").startswith(t.district.path)
    ]
    return sorted(found, key=lambda t: (t.category_id is None, t.title, t.pk))


def reply_templates_managed_by(user: Any) -> QuerySet[ReplyTemplate]:
    """The templates a district centre manages: its districts' and the shared ones (administrators: all)."""
    scope = scope_for(user)
    templates = ReplyTemplate.objects.select_related("category__parent", "district").order_by(
        "-is_active", "category__code", "title", "pk"
    )
    if scope.sees_all:
        return templates
    return templates.filter(Q(district__isnull=True) | Q(district_id__in=manager_districts(user)))


def manager_districts(user: Any) -> list[int]:
    """The districts whose reply templates `user` manages (a district centre post's area)."""
    scope = scope_for(user)
    if scope.sees_all:
        return list(Area.objects.filter(level=AreaLevel.DISTRICT).values_list("pk", flat=True))
    from governance.models import Role

    if not scope.has_role(Role.DISTRICT_CENTRE):
        return []
    return [area_id for _path, level, area_id in scope.areas if level == AreaLevel.DISTRICT]


DEPARTMENT_GROUP_ORDER = (DepartmentKind.DISTRICT, DepartmentKind.UTILITY, DepartmentKind.PROPERTY)


def department_groups(departments: list[Department]) -> list[tuple[str, list[Department]]]:
    """Departments grouped by kind (district bureaus, utilities, property companies), each by code."""
    labels = dict(DepartmentKind.choices)
    groups = []
    for kind in DEPARTMENT_GROUP_ORDER:
        members = sorted((d for d in departments if d.kind == kind), key=lambda d: d.code)
        if members:
            groups.append((str(labels[kind]), members))
    return groups


@dataclass(frozen=True)
class Suggestion:
    area: Area
    reason: str


def place_suggestion(petition: Petition, choices: QuerySet[Area]) -> Suggestion | None:
    """Where to place the petition, from its address, among `choices` (the form's areas).

    1. The grid most earlier petitions with the very same address were located in;
    2. else the deepest area of `choices` whose name the address contains (a community or grid
       named in "XX社区XX号楼").
    """
    address = (petition.address or "").strip()
    if not address:
        return None
    earlier = list(
        Petition.objects.filter(address=address, grid__isnull=False)
        .exclude(pk=petition.pk)
        .order_by("-created_at")
        .values_list("grid_id", flat=True)[:SUGGEST_SAME_ADDRESS_LOOKBACK]
    )
    if earlier:
        for grid_id, count in Counter(earlier).most_common():
            area = choices.filter(pk=grid_id).first()
            if area is not None:
                return Suggestion(
                    area, _("%(n)s earlier petition(s) at the same address were in this grid.") % {"n": count}
                )
    named = [
        area
        for area in choices.only("id", "code", "name", "level", "path")
        if len(area.name) >= SUGGEST_MIN_NAME_CHARS and area.name in address
    ]
    if named:
        area = max(named, key=lambda a: (a.level, len(a.name)))
        return Suggestion(area, _("The address names this area."))
    return None
