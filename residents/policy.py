"""Who may see and do what on the community's records: the one rule pages, selectors and services ask.

`record_access(user, record)` answers for one building, house, resident or party record:

* **view** — staff posted to an area (grid worker and up, administrators) whose subtree holds the
  record (the level columns of governance.scoping). Department staff and residents see no records.
  A minor's record (under 18 by birth date) is seen only by a community secretary or higher whose
  subtree holds it.
* **view unmasked** — the people who call on residents: grid workers, micro-grid heads' grid,
  community workers and secretaries of the record's area. Streets, the district and administrators
  oversee, and see names, ID numbers, phones and birth dates masked. Every unmasked view is written
  to the access log by the page that shows it.
* **edit** — grid workers, community workers and secretaries of the record's area, and
  administrators.

`records_visible_to(user, queryset)` is the same rule as a query: the level columns, minus the
minors the user may not see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from governance.models import Role
from governance.scoping import LEVEL_FIELDS, LEVEL_PATH_FIELD, forget_scope, levels_condition, scope_for
from grids.models import Area, AreaLevel
from residents.models import ADULT_AGE, Resident

M = TypeVar("M", bound=Model)

VIEW_ROLES = frozenset(
    {
        Role.GRID_WORKER,
        Role.MICROGRID_HEAD,
        Role.COMMUNITY_WORKER,
        Role.COMMUNITY_SECRETARY,
        Role.STREET_COMMAND,
        Role.DISTRICT_CENTRE,
    }
)
UNMASK_ROLES = frozenset({Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.COMMUNITY_SECRETARY})
EDIT_ROLES = frozenset({Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.COMMUNITY_SECRETARY})
# A community secretary or higher: may open minors' records.
MINOR_ROLES = frozenset({Role.COMMUNITY_SECRETARY, Role.STREET_COMMAND, Role.DISTRICT_CENTRE})
# Who adds and retires a community's own tags (administrators too; district-wide tags are theirs only).
TAG_ROLES = frozenset({Role.COMMUNITY_SECRETARY})


@dataclass(frozen=True)
class RecordAccess:
    view: bool = False
    view_unmasked: bool = False
    edit: bool = False

    def __bool__(self) -> bool:
        return self.view


NONE = RecordAccess()


def _posts(user: Any) -> tuple[tuple[str, str, int, int], ...]:
    """(role, area path, area level, area id) of the user's active area posts: the scope's own rows
    (governance.scoping reads them once per request, with the session where it can)."""
    return scope_for(user).posts


def minor_cutoff(today: date | None = None) -> date:
    """Residents born after this date are minors."""
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year - ADULT_AGE)
    except ValueError:  # 29 February
        return today.replace(year=today.year - ADULT_AGE, day=28)


def _covers(post_path: str, post_level: int, post_area_id: int, record: Any) -> bool:
    field = LEVEL_FIELDS.get(post_level)
    if field is not None:
        return getattr(record, field, None) == post_area_id
    return (getattr(record, LEVEL_PATH_FIELD, "") or "").startswith(post_path)


def _is_minor(record: Any) -> bool:
    """Whether the record is a minor resident's: a Resident, or a resident's row read as values
    (residents.finder.FoundResident), which carries the model's `_meta`."""
    is_resident = getattr(record, "_meta", None) is Resident._meta
    return is_resident and record.birth_date is not None and record.birth_date > minor_cutoff()


def record_access(user: Any, record: Any) -> RecordAccess:
    """What `user` may do with one record carrying level columns (a building, house, resident …)."""
    scope = scope_for(user)
    if not scope.is_staff_member:
        return NONE
    minor = _is_minor(record)
    if scope.sees_all:  # administrators: oversight, masked; they correct records
        return RecordAccess(view=True, view_unmasked=False, edit=True)
    roles = {role for role, path, level, area_id in _posts(user) if _covers(path, level, area_id, record)}
    if minor and not roles & MINOR_ROLES:
        return NONE
    if not roles & VIEW_ROLES:
        return NONE
    return RecordAccess(view=True, view_unmasked=bool(roles & UNMASK_ROLES), edit=bool(roles & EDIT_ROLES))


def _condition(areas: list[tuple[str, int, int]], prefix: str) -> Q | None:
    return levels_condition(areas, prefix=prefix)


def records_visible_to(user: Any, queryset: QuerySet[M], *, prefix: str = "") -> QuerySet[M]:
    """The rows of `queryset` (any model with level columns) the user may view.

    For residents (`queryset.model` is Resident, or `prefix` reaches one) minors are left out
    outside the areas where the user is a community secretary or higher.
    """
    scope = scope_for(user)
    if not scope.is_staff_member:
        return queryset.none()
    if scope.sees_all:
        return queryset
    posts = _posts(user)
    areas = [(path, level, area_id) for role, path, level, area_id in posts if role in VIEW_ROLES]
    condition = _condition(areas, prefix)
    if condition is None:
        return queryset.none()
    queryset = queryset.filter(condition)
    if queryset.model is Resident and not prefix:
        senior = [(path, level, area_id) for role, path, level, area_id in posts if role in MINOR_ROLES]
        adult = Q(birth_date__isnull=True) | Q(birth_date__lte=minor_cutoff())
        senior_condition = _condition(senior, "")
        queryset = queryset.filter(adult | senior_condition if senior_condition is not None else adult)
    return queryset


def record_get_for_user(user: Any, queryset: QuerySet[M], **lookup: Any) -> tuple[M, RecordAccess]:
    """One record the user may view and their access to it; missing and forbidden give the same 404."""
    try:
        record = records_visible_to(user, queryset).get(**lookup)
    except queryset.model.DoesNotExist:
        raise Http404 from None
    access = record_access(user, record)
    if not access.view:
        raise Http404
    return record, access


def may_edit_in(user: Any, area: Any) -> bool:
    """Whether the user may create records in `area` (a micro-grid): an edit role over its subtree."""
    scope = scope_for(user)
    if scope.sees_all:
        return True
    return any(role in EDIT_ROLES and area.path.startswith(path) for role, path, _level, _id in _posts(user))


def microgrids_editable_by(user: Any) -> QuerySet[Area]:
    """The micro-grids where the user may create records: `may_edit_in` as a query."""
    microgrids = Area.objects.filter(level=AreaLevel.MICROGRID)
    if scope_for(user).sees_all:
        return microgrids
    paths = [path for role, path, _level, _id in _posts(user) if role in EDIT_ROLES]
    if not paths:
        return microgrids.none()
    condition = Q(path__startswith=paths[0])
    for path in paths[1:]:
        condition |= Q(path__startswith=path)
    return microgrids.filter(condition)


def may_manage_tags(user: Any, community: Any) -> bool:
    """Whether the user may add or retire the own tags of `community` (None: the district-wide list)."""
    scope = scope_for(user)
    if scope.sees_all:
        return True
    if community is None:
        return False
    return any(role in TAG_ROLES and area_id == community.pk for role, _path, _level, area_id in _posts(user))


def tag_managed_communities(user: Any) -> QuerySet[Area]:
    """The communities whose own tags the user may add and retire (`may_manage_tags` as a query)."""
    communities = Area.objects.filter(level=AreaLevel.COMMUNITY).order_by("path")
    if scope_for(user).sees_all:
        return communities
    return communities.filter(pk__in=[area_id for role, _p, _l, area_id in _posts(user) if role in TAG_ROLES])


def tag_communities(user: Any) -> list[Any]:
    """The communities whose tags the user sees: those of their subtree, and the community above a post
    below it (a grid worker tags the residents of their community)."""
    scope = scope_for(user)
    communities = Area.objects.filter(level=AreaLevel.COMMUNITY).order_by("path")
    if scope.sees_all:
        return list(communities)
    paths = [path for role, path, _level, _id in _posts(user) if role in VIEW_ROLES]
    if not paths:
        return []
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(path__startswith=path)
        parts = [part for part in path.split("/") if part]
        if len(parts) > 3:
            condition |= Q(path="/".join(parts[:3]) + "/")
    return list(communities.filter(condition))


def forget_posts(user: Any) -> None:
    """Drop the posts read for this user (they live in the scope) after the posts change."""
    forget_scope(user)
