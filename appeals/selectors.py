"""Everything that reads petitions for a screen or an API, always through the caller's scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from appeals.models import (
    Assignment,
    AssignmentStatus,
    Category,
    EventType,
    Petition,
    PetitionEvent,
    Rating,
    Status,
)
from governance.privacy import mask_text
from governance.scoping import scope_for
from grids.models import AreaLevel

# A petition stores its area at every level; a scope at one of these levels is one equality on an
# index led by that column (ORDER BY created_at reads the first page straight from it).
LEVEL_FIELDS = {
    AreaLevel.STREET: "street_id",
    AreaLevel.COMMUNITY: "community_id",
    AreaLevel.GRID: "grid_id",
    AreaLevel.MICROGRID: "microgrid_id",
}


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
    condition = scope.level_condition(LEVEL_FIELDS, "area_path") or Q(pk__in=[])
    if scope.department_ids:
        dispatched = Assignment.objects.filter(petition=OuterRef("pk"), department_id__in=scope.department_ids).exclude(
            status=AssignmentStatus.CANCELLED
        )
        condition |= Q(Exists(dispatched))
    return queryset.filter(condition)


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


def petition_get_by_tracking(*, tracking_no: str, contact_phone: str) -> Petition:
    """The public lookup: tracking number plus the phone given at submission (both must match)."""
    from appeals.services.intake import clean_phone

    phone = clean_phone(contact_phone or "")
    if not tracking_no or not phone:
        raise Http404
    try:
        return Petition.objects.select_related("category__parent").get(
            tracking_no=tracking_no.strip(), contact_phone=phone
        )
    except Petition.DoesNotExist:
        raise Http404 from None


def petition_timeline(petition: Petition) -> QuerySet[PetitionEvent]:
    return petition.events.select_related("actor").order_by("created_at", "id")


def categories_for_intake() -> QuerySet[Category]:
    """Active sub-classes with their class, for forms and Open311's service list."""
    return Category.objects.filter(is_active=True, parent__isnull=False, parent__is_active=True).select_related(
        "parent"
    )


# What a resident sees of the timeline: outcomes, never who inside did what or internal notes.
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


@dataclass(frozen=True)
class ResidentView:
    """Everything the resident's tracking page and the resident's API show of a petition, and nothing else.

    Free text is masked (`governance.privacy.mask_text`): whoever reached the page with a tracking
    number and a phone number learns no other phone, ID number or name from it.
    """

    petition: Petition
    title: str
    description: str
    reply: str
    timeline: list[PetitionEvent]
    can_rate: bool
    can_reopen: bool


def petition_resident_view(petition: Petition) -> ResidentView:
    """The one definition of the resident's view: the tracking page and the API render it alike."""
    events = petition.events.order_by("created_at", "id").filter(type__in=RESIDENT_EVENTS)
    return ResidentView(
        petition=petition,
        title=mask_text(petition.title),
        description=mask_text(petition.description),
        reply=mask_text(petition.reply),
        timeline=list(events),
        can_rate=petition.status == Status.RESOLVED and not petition.rating,
        can_reopen=petition.status == Status.RESOLVED and petition.rating in ("", Rating.UNSATISFIED),
    )
