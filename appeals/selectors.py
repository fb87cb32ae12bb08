"""Everything that reads petitions for a screen or an API, always through the caller's scope."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections
from django.db.models import BooleanField, F, Func, Q, QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import Http404

from appeals.models import (
    Assignment,
    AssignmentStatus,
    Category,
    EventType,
    Petition,
    PetitionEvent,
    Status,
)
from governance.privacy import mask_text
from governance.scoping import LEVEL_FIELDS, LEVEL_PATH_FIELD, scope_for

# A petition stores its area at every level (the one rule of governance.scoping); a scope at one of
# these levels is one equality on an index led by that column (ORDER BY created_at reads the first
# page straight from it).


# What a list page never shows, kept out of its query: the handling area's boundary (a polygon of
# kilobytes, decoded for every row) and the long texts.
LIST_DEFERRED = ("description", "reply", "handler_area__boundary")


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
