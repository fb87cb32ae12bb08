"""Everything that reads petitions for a screen or an API, always through the caller's scope."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from appeals.models import Assignment, AssignmentStatus, Category, Petition, PetitionEvent
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


def categories_for_intake() -> QuerySet[Category]:
    """Active sub-classes with their class, for forms and Open311's service list."""
    return Category.objects.filter(is_active=True, parent__isnull=False, parent__is_active=True).select_related(
        "parent"
    )
