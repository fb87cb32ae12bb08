"""Everything that reads petitions for a screen or an API, always through the caller's scope."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections
from django.db.models import BooleanField, Case, F, Func, Q, QuerySet, Value, When
from django.db.models.functions import Lower
from django.db.models.lookups import Contains
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from appeals.models import (
    LIVE_PARTS,
    OPEN_INDEX_STATUSES,
    Assignment,
    AssignmentStatus,
    Category,
    EventType,
    Petition,
    PetitionEvent,
    Status,
)
from governance.models import Role
from governance.privacy import mask_text
from governance.scoping import LEVEL_FIELDS, LEVEL_PATH_FIELD, scope_for
from grids.models import Area, AreaLevel

# A petition stores its area at every level (the one rule of governance.scoping); a scope at one of
# these levels is one equality on an index led by that column (ORDER BY created_at reads the first
# page straight from it).


# What a list page never shows, kept out of its query: the handling area's boundary (a polygon of
# kilobytes, decoded for every row) and the long texts.
LIST_DEFERRED = ("description", "reply", "handler_area__boundary")
# What a worklist page's rows read (`appeals.worklist.row_html` and `sla_for`, the policy's 签收
# rule): these columns, and the handling area's path and name through its one join. The category's
# and the department's names come from the per-process caches (`categories_by_id`,
# `governance.selectors.department_names`): 1 join and 20 columns instead of 4 joins and 80 save
# ~2 ms of query building and row loading a page.
WORKLIST_ROW_FIELDS = (
    "tracking_no",
    "title",
    "status",
    "tier",
    "category",
    "urgency",
    "handler_area__path",
    "handler_area__name",
    "handler_department",
    "grid",
    "microgrid",
    "clock_started_at",
    "deadline_at",
    "escalated_on_deadline",
    "supervised",
    "repeat_count",
    "sweep_error",
    "sweep_failed_at",
    "created_at",
)


def petitions_visible_to(user: Any) -> QuerySet[Petition]:
    """Staff: petitions located in their subtrees, plus those dispatched to their departments.

    Residents (no staff post): only the petitions they filed.
    """
    scope = scope_for(user)
    queryset = Petition.objects.all()
    if scope.sees_all:
        return queryset
    if not scope.is_staff_member:
        if user is None or not getattr(user, "is_authenticated", False):
            return queryset.none()
        return queryset.filter(submitter=user)
    condition = scope.level_condition(LEVEL_FIELDS, LEVEL_PATH_FIELD) or Q(pk__in=[])
    if scope.department_ids:
        condition |= _dispatched_to(scope.department_ids)
    return queryset.filter(condition)


def petitions_listed_for(user: Any) -> QuerySet[Petition]:
    """`petitions_visible_to(user)`, the same rows, in the shape a list's newest-first page reads fastest.

    Staff of one department and no area (a department handler) see the petitions with a live part
    for their department: at most one such part per petition (the constraint
    `appeals_assignment_one_active_per_department`), so a join yields each petition once. Joined on
    the list's order said on the part's copies of `created_at` and `id` (`list_ordered`), PostgreSQL
    reads a page from the index `appeals_assign_dept_recent` (a few entries and their petitions),
    where the id list (`_dispatched_to`) fetched and sorted every petition the department ever had.
    Everyone else: `petitions_visible_to`. For lists only: other readers (aggregates over
    `assignments`) keep the join-free scope.
    """
    department_id = _list_department(user)
    if department_id is None:
        return petitions_visible_to(user)
    return Petition.objects.filter(assignments__department_id=department_id, assignments__status__in=LIVE_PARTS)


def petitions_listed_counted(
    user: Any, queryset: QuerySet[Petition], *, listed: QuerySet[Petition] | None = None
) -> QuerySet:
    """What counts as many rows as `queryset` (a list from `petitions_listed_for`) at the least cost.

    A department's whole list, unfiltered (the same WHERE as `petitions_listed_for(user)`), is
    counted on its live parts: at most one per petition (the constraint
    `appeals_assignment_one_active_per_department`), each joined to exactly one petition, so as
    many parts as listed petitions, counted from the index appeals_assign_dept_status alone instead
    of probing the petition for each part. Any other queryset counts itself. `listed` is
    `petitions_listed_for(user)` when the caller has it at hand.
    """
    department_id = _list_department(user)
    if department_id is None:
        return queryset
    if queryset.query.where != (listed if listed is not None else petitions_listed_for(user)).query.where:
        return queryset
    return Assignment.objects.filter(department_id=department_id, status__in=LIVE_PARTS)


def _list_department(user: Any) -> int | None:
    """The one department whose parts are the whole of the user's list (PostgreSQL), else None."""
    scope = scope_for(user)
    if len(scope.department_ids) != 1 or scope.areas or scope.sees_all:
        return None
    if connections[Petition.objects.db].vendor != "postgresql":
        return None
    return scope.department_ids[0]


# A department's list (`petitions_listed_for`) sorts on its parts' copies of these columns: the
# same values (a part's petition_created_at is its petition's created_at, kept by the database),
# in the order of the index appeals_assign_dept_recent.
_PART_COLUMNS = {"created_at": "assignments__petition_created_at", "id": "assignments__petition_id"}


def list_ordered(user: Any, queryset: QuerySet[Petition]) -> QuerySet[Petition]:
    """`queryset` (from `petitions_listed_for`) in its own order, said so the index can serve it.

    For a department's list, `created_at` and `id` in the ORDER BY become the joined part's copies
    of them (equal values, so the same order): PostgreSQL then walks appeals_assign_dept_recent and
    stops after a page. Said on the petition's own columns, it would fetch every part's petition
    and sort them. Other lists are returned as they are.
    """
    if _list_department(user) is None or not queryset.query.order_by:
        return queryset
    ordering = []
    for name in queryset.query.order_by:
        if not isinstance(name, str):
            return queryset
        sign, column = ("-", name[1:]) if name.startswith("-") else ("", name)
        ordering.append(sign + _PART_COLUMNS.get("id" if column == "pk" else column, column))
    return queryset.order_by(*ordering)


def _dispatched_to(department_ids: tuple[int, ...]) -> Q:
    """Petitions with a live assignment to one of the departments.

    On PostgreSQL `id = ANY(ARRAY(SELECT petition_id …))`: the department's few thousand ids are read
    from the assignment index first, then fetched by primary key. As `EXISTS` or `IN (SELECT …)`
    the planner walks the whole table newest first looking for them (2.6 s at 1M petitions).
    """
    petition_ids = (
        Assignment.objects.filter(department_id__in=department_ids)
        .exclude(status=AssignmentStatus.CANCELLED)
        .values("petition_id")
    )
    return _ids_in(petition_ids)


def _ids_in(petition_ids: QuerySet) -> Q:
    """`id = ANY(ARRAY(subquery))` on PostgreSQL (the ids first, then by primary key), else `IN`."""
    if connections[Petition.objects.db].vendor == "postgresql":
        in_array = Func(
            F("pk"),
            ArraySubquery(petition_ids),
            arg_joiner=" = ANY(",
            template="%(expressions)s)",
            output_field=BooleanField(),
        )
        return Q(in_array)
    return Q(pk__in=petition_ids)


def petition_get_for_user(user: Any, *, tracking_no: str) -> Petition:
    """One petition the user may see; missing and out-of-scope both give the same 404."""
    try:
        return (
            petitions_visible_to(user)
            .select_related(
                "category__parent", "handler_area", "handler_department", "microgrid", "grid", "community", "street"
            )
            .get(tracking_no=tracking_no)
        )
    except Petition.DoesNotExist:
        raise Http404 from None


ACCESS_TOKEN_MAX = 64


def petition_get_by_token(*, token: str, tracking_no: str | None = None) -> Petition:
    """The petition of a tracking link's secret token (optionally also checking its number); 404 otherwise."""
    if not token or len(token) > ACCESS_TOKEN_MAX:
        raise Http404
    queryset = Petition.objects.select_related("category__parent").filter(access_token=token)
    if tracking_no is not None:
        queryset = queryset.filter(tracking_no=tracking_no)
    petition = queryset.first()
    if petition is None:
        raise Http404
    return petition


def petition_timeline(petition: Petition) -> QuerySet[PetitionEvent]:
    return petition.events.select_related("actor").order_by("created_at", "id")


# What a resident sees of a timeline: outcomes, never who inside did what or internal notes.
RESIDENT_EVENTS = frozenset(
    {
        EventType.SUBMITTED,
        EventType.ROUTED,
        EventType.PLACED,
        EventType.ACCEPTED,
        EventType.HANDLING,
        EventType.ESCALATED,
        EventType.WHISTLED,
        EventType.RESOLVED,
        EventType.RATED,
        EventType.REOPENED,
        EventType.CLOSED,
        EventType.MERGED,
    }
)
# Of the master's timeline, what a merged petition's resident sees from the merge on.
MASTER_EVENTS_FOR_MERGED = RESIDENT_EVENTS - {EventType.SUBMITTED, EventType.MERGED, EventType.RATED}


@dataclass(frozen=True)
class ResidentView:
    """Everything the resident's tracking page and the resident's API show of a petition, and nothing else.

    A merged petition is followed through its master: `master` carries the status and reply that
    now answer the resident, and the timeline goes on with the master's steps after the merge.
    Free text is masked (`governance.privacy.mask_text`): whoever reached the page with a tracking
    number and a phone number learns no other phone, ID number or name from it.
    """

    petition: Petition
    master: Petition | None
    timeline: list[PetitionEvent]
    title: str
    description: str
    reply: str
    can_rate: bool
    can_reopen: bool
    # What the resident may do now, as the API names it (`appeals.policy.action_slug`).
    actions: list[str]


def petition_resident_view(petition: Petition) -> ResidentView:
    """The one definition of the resident's view: the tracking page and the APIs render it alike."""
    from appeals import policy  # the policy reads selectors

    own = [e for e in petition.events.order_by("created_at", "id") if e.type in RESIDENT_EVENTS]
    master = None
    timeline = own
    if petition.status == Status.MERGED and petition.merged_into_id is not None:
        master = Petition.objects.select_related("category__parent").get(pk=petition.merged_into_id)
        merged_at = max((e.created_at for e in own if e.type == EventType.MERGED), default=petition.updated_at)
        later = master.events.filter(type__in=MASTER_EVENTS_FOR_MERGED, created_at__gte=merged_at).order_by(
            "created_at", "id"
        )
        timeline = [*own, *later]
    # The page speaks to the resident who filed it: their account, or whoever proved the phone.
    resident = petition.submitter if petition.submitter_id else AnonymousUser()
    offered = policy.actions_for(resident, petition, contact_phone=petition.contact_phone)
    return ResidentView(
        petition=petition,
        master=master,
        timeline=timeline,
        title=mask_text(petition.title),
        description=mask_text(petition.description),
        reply=mask_text((master or petition).reply),
        can_rate="rate" in offered,
        can_reopen="reopen" in offered,
        actions=[policy.action_slug(name) for name in offered],
    )


def categories_for_intake() -> QuerySet[Category]:
    """Active sub-classes with their class, for forms and Open311's service list."""
    return Category.objects.filter(is_active=True, parent__isnull=False, parent__is_active=True).select_related(
        "parent"
    )


def petitions_todo(user: Any) -> QuerySet[Petition]:
    """待办: the petitions of the user's scope they can act on now (`appeals.policy.todo_filter`)."""
    from appeals.policy import todo_filter

    return petitions_visible_to(user).filter(todo_filter(user))


# --- Categories, per process ----------------------------------------------------------------------
# Every intake request and every list page reads the category table, which changes a few times a
# year: each process keeps it and re-reads it after CATEGORY_CACHE_SECONDS, or at once when this
# process saved or deleted a category. Another process's admin edit reaches it within that time.
CATEGORY_CACHE_SECONDS = 30

_category_lock = threading.Lock()
_category_cache: tuple[float, dict[str, Category]] | None = None
_category_version = 0


def categories_by_code() -> dict[str, Category]:
    """Every category by code, with its class loaded, in display order. Do not modify the objects."""
    global _category_cache
    cached = _category_cache
    if cached is not None and time.monotonic() - cached[0] < CATEGORY_CACHE_SECONDS:
        return cached[1]
    with _category_lock:
        global _category_version
        loaded = {c.code: c for c in Category.objects.select_related("parent")}
        _category_cache = (time.monotonic(), loaded)
        _category_version += 1
        return loaded


_category_by_id: tuple[dict[str, Category], dict[int, Category]] | None = None


def categories_by_id(wanted: Any = ()) -> dict[int, Category]:
    """`categories_by_code()` by primary key (the same objects); re-read when one of the `wanted`
    ids is missing (a category created by another process). Do not modify the objects."""
    global _category_by_id
    by_code = categories_by_code()
    cached = _category_by_id
    if cached is None or cached[0] is not by_code:
        cached = _category_by_id = (by_code, {c.pk: c for c in by_code.values()})
    if any(pk not in cached[1] for pk in wanted):
        categories_cache_clear()
        return categories_by_id()
    return cached[1]


def categories_version() -> int:
    """Changes whenever `categories_by_code()` re-reads the table: a key for what is built from it."""
    categories_by_code()
    return _category_version


def category_for_intake(code: str) -> Category | None:
    """The active sub-class with this code (the rule of `categories_for_intake`), from the cache."""
    category = categories_by_code().get(code)
    if category is None or category.parent is None or not (category.is_active and category.parent.is_active):
        return None
    return category


def categories_for_intake_cached() -> list[Category]:
    """`categories_for_intake()` as a list, from the per-process cache (forms, filters)."""
    return [c for c in categories_by_code().values() if category_for_intake(c.code) is not None]


def categories_cache_clear() -> None:
    global _category_cache
    _category_cache = None


@receiver([post_save, post_delete], sender=Category, dispatch_uid="appeals.categories_cache_clear")
def _category_changed(**_kwargs: Any) -> None:
    categories_cache_clear()


# --- The staff worklist ----------------------------------------------------------------------------

WORKLIST_TABS = [
    ("todo", _("To do")),
    ("pending", _("Not yet accepted")),
    ("done", _("Done")),
    ("supervised", _("Supervised")),
    ("all", _("All")),
    ("sweep_failed", _("Sweep failures")),
]
# Every petition 待办 can hold is in one of these states (a test checks `todo_filter` against it).
# Said again at the top of the condition, it lets PostgreSQL use the partial index of open
# petitions (appeals_pet_open_recent), which it cannot prove from the OR of the policy's branches.
TODO_STATUSES = tuple(OPEN_INDEX_STATUSES)
# Tabs only some roles see: rows the background sweeps could not process, for the district.
DISTRICT_TABS = frozenset({"sweep_failed"})
# A category filter value naming a whole class (its sub-classes), beside plain sub-class ids.
CLASS_PREFIX = "class:"


def sees_sweep_failures(user: Any) -> bool:
    scope = scope_for(user)
    return scope.sees_all or scope.has_role(Role.DISTRICT_CENTRE)


def worklist_tab_condition(tab: str, user: Any, **todo: Any) -> Q:
    """The tabs of the staff list; 待办 is the policy's own filter (`appeals.policy.todo_filter`,
    `todo` its `now` and `pending_ids`)."""
    if tab == "pending":
        return Q(status__in=[Status.ASSIGNED, Status.INTAKE, Status.RETURNED])
    if tab == "done":
        return Q(status__in=[Status.RESOLVED, Status.CLOSED])
    if tab == "supervised":
        return Q(supervised=True)
    if tab == "sweep_failed":
        return Q(sweep_failed_at__isnull=False) if sees_sweep_failures(user) else Q(pk__in=[])
    if tab == "all":
        return Q()
    return todo_condition(user, **todo)


# Scopes at these levels hold thousands of open petitions: their 待办 is shaped for the open
# petitions' indexes. Grids and micro-grids keep the policy's plain OR on their own index.
WIDE_LEVELS = frozenset({AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY})


def _wide(scope: Any) -> bool:
    return scope.sees_all or any(level in WIDE_LEVELS for _path, level, _id in scope.areas)


def todo_reads_pending(user: Any) -> bool:
    """Whether 待办's branch of pending extension decisions is read by its own statement: in a wide
    scope's shape (each row's CASE checked as the scope is walked) as a subquery, whose few ids
    PostgreSQL hashes once. Elsewhere the ids are read first (`policy.todo_pending_ids`): an id
    list keeps the plain OR on bitmaps."""
    scope = scope_for(user)
    return _wide(scope) and not scope.department_ids


def todo_pending(user: Any) -> QuerySet | tuple[int, ...]:
    """What 待办's branch of pending extension decisions reads (`todo_reads_pending`)."""
    from appeals.policy import pending_extensions, todo_pending_ids  # the policy reads selectors

    return pending_extensions(user) if todo_reads_pending(user) else todo_pending_ids(user)


def todo_condition(user: Any, *, now: Any = None, pending_ids: Any = None) -> Q:
    """`appeals.policy.todo_filter`, the same rows, in the shape PostgreSQL serves fastest
    (`now` and `pending_ids` as it takes them; `pending_ids` by default `todo_pending(user)`).

    The policy's branches are an OR whose row count the planner underestimates a hundredfold (an
    open petition past its deadline: status and deadline are correlated), so it would read every
    match through bitmaps and sort them for one page. For a scope of areas the OR is wrapped in
    `CASE WHEN … THEN true ELSE false END`, which no index matches: the plan walks the open
    petitions of the scope newest first (appeals_pet_open_* indexes, proved by the leading
    `status IN TODO_STATUSES`), stops after a page, and counts from the index alone. A
    department's scope is a list of petition ids: there the plain OR stays, narrowed for staff of
    departments only by their open parts' ids. Grids and micro-grids keep the plain OR.
    """
    from appeals.policy import OPEN_PARTS, todo_filter  # the policy reads selectors

    if pending_ids is None:
        pending_ids = todo_pending(user)
    condition = todo_filter(user, now=now, pending_ids=pending_ids)
    scope = scope_for(user)
    if not _wide(scope) and not scope.department_ids:
        # A grid or a micro-grid: a few hundred petitions on their own index; the plain OR is best.
        return condition
    if not scope.department_ids:
        condition = Q(Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField()))
    elif not scope.areas and not scope.sees_all:
        # Staff of departments only: their 待办 is their open parts (the policy's one branch for
        # them). Said again as a short id list, it puts the primary key on a few dozen ids instead
        # of every petition the department ever had; it only narrows, never widens.
        open_parts = Assignment.objects.filter(department_id__in=scope.department_ids, status__in=OPEN_PARTS)
        condition &= _ids_in(open_parts.values("petition_id"))
    return Q(status__in=TODO_STATUSES) & condition


# Below this many characters a pattern has no trigram: the index would return every row.
TRIGRAM_MIN_CHARS = 3


def text_search_condition(text: str) -> Q:
    """A tracking number, or the text inside the title, the description or the address.

    On PostgreSQL each `UPPER(column) LIKE UPPER('%…%')` is served by a trigram index (migration
    0015, pg_trgm) and the three are OR-ed as bitmaps. A one- or two-character search (常见: "噪音")
    has no trigram, and the index would hand back the whole table: it is written as
    `LOWER(column) LIKE '%…%'`, which no index matches, so it is checked on the rows of the
    user's scope instead. Elsewhere both forms scan.
    """
    if len(text) >= TRIGRAM_MIN_CHARS:
        return (
            Q(tracking_no=text.upper())
            | Q(title__icontains=text)
            | Q(description__icontains=text)
            | Q(address__icontains=text)
        )
    lowered = text.lower()
    return (
        Q(tracking_no=text.upper())
        | Q(Contains(Lower("title"), lowered))
        | Q(Contains(Lower("description"), lowered))
        | Q(Contains(Lower("address"), lowered))
    )


def area_condition(area: Area) -> Q:
    """Petitions located in `area`'s subtree: one indexed equality per level, the path otherwise."""
    field_name = LEVEL_FIELDS.get(area.level)
    if field_name:
        return Q(**{field_name: area.pk})
    return Q(area_path__startswith=area.path)


def category_filter_choices() -> list:
    """Every sub-class (retired ones too: old petitions carry them) under its class, each class
    first as a whole: `class:<id>`. From the per-process category cache."""
    classes: dict[int, tuple[Category, list[Category]]] = {}
    for category in categories_by_code().values():
        if category.parent is None:
            classes.setdefault(category.pk, (category, []))
    for category in categories_by_code().values():
        if category.parent is not None and category.parent_id in classes:
            classes[category.parent_id][1].append(category)
    groups = sorted(classes.values(), key=lambda pair: (pair[0].sort_order, pair[0].code))
    return [
        ("", _("Any category")),
        *(
            (
                parent.name,
                [
                    (f"{CLASS_PREFIX}{parent.pk}", _("All of %(name)s") % {"name": parent.name}),
                    *((str(c.pk), c.name) for c in sorted(children, key=lambda c: (c.sort_order, c.code))),
                ],
            )
            for parent, children in groups
        ),
    ]


# The area picker lists at most this many areas (a search narrows it).
PICKER_LIMIT = 60


@dataclass(frozen=True)
class PickerNode:
    area: Area
    children: list[PickerNode]
    matched: bool = True


def areas_for_picker(user: Any, text: str = "") -> list[PickerNode]:
    """The area tree of the user's subtrees for the list's area picker.

    Without `text`: the user's own areas and two levels below them (a district sees its streets
    and their communities), grids and micro-grids on search. With `text`: the areas whose name or
    code contains it (at most PICKER_LIMIT), each under its ancestors inside the scope.
    """
    scope = scope_for(user)
    areas = Area.objects.only("id", "code", "name", "level", "path", "parent_id").order_by("path")
    if scope.sees_all:
        roots = list(areas.filter(parent__isnull=True))
    else:
        roots = list(areas.filter(path__in=scope.area_paths))
    if not roots:
        return []
    inside = reduce(or_, (Q(path__startswith=root.path) for root in roots))
    text = text.strip()
    if text:
        found = list(areas.filter(inside).filter(Q(name__icontains=text) | Q(code__icontains=text))[:PICKER_LIMIT])
        wanted_paths = {a.path for a in found}
        ancestor_paths = set()
        root_paths = {root.path for root in roots}
        for area in found:
            for root_path in root_paths:
                if area.path.startswith(root_path):
                    ancestor_paths.update(_ancestor_paths(area.path, root_path))
        ancestors = list(areas.filter(path__in=ancestor_paths - wanted_paths)) if ancestor_paths else []
        chosen = {a.path: a for a in [*found, *ancestors]}
        return _tree(chosen, roots, matched=wanted_paths)
    top_level = min(root.level for root in roots)
    shallow = list(areas.filter(inside, level__lte=top_level + 2)[: PICKER_LIMIT * 4])
    return _tree({a.path: a for a in shallow}, roots, matched=None)


def _ancestor_paths(path: str, root_path: str) -> list[str]:
    """The paths from `root_path` down to `path`'s parent (paths are "/"-separated codes ending in "/")."""
    parts = [part for part in path[len(root_path) :].split("/") if part]
    result = [root_path]
    current = root_path
    for part in parts[:-1]:
        current = f"{current}{part}/"
        result.append(current)
    return result


def _tree(by_path: dict[str, Area], roots: list[Area], *, matched: set[str] | None) -> list[PickerNode]:
    children: dict[int, list[Area]] = {}
    for area in sorted(by_path.values(), key=lambda a: a.path):
        if area.parent_id is not None:
            children.setdefault(area.parent_id, []).append(area)

    def node(area: Area) -> PickerNode:
        return PickerNode(
            area=area,
            children=[node(child) for child in children.get(area.pk, [])],
            matched=matched is None or area.path in matched,
        )

    return [node(root) for root in roots]
