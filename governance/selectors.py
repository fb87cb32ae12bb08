"""Everything that reads areas for a screen or an API; all of it through the user's scope."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from governance.models import Role, StaffPost
from governance.scoping import get_in_scope, scope_for
from grids.models import Area


def areas_visible_to(user: Any) -> QuerySet[Area]:
    return scope_for(user).filter(Area.objects.all(), path_field="path")


def area_get_for_user(user: Any, *, code: str) -> Area:
    return get_in_scope(user, Area.objects.select_related("parent"), path_field="path", code=code)


def area_roots_for(user: Any) -> QuerySet[Area]:
    """The top areas of the user's subtrees (their own posts' areas), for a home page."""
    scope = scope_for(user)
    if scope.sees_all:
        return Area.objects.filter(parent__isnull=True)
    return Area.objects.filter(path__in=scope.area_paths)


def area_children(area: Area) -> QuerySet[Area]:
    return area.children.annotate(child_count=Count("children")).order_by("code")


def area_ancestors(area: Area) -> QuerySet[Area]:
    """Breadcrumb: the ancestors' names are shown even above the user's subtree."""
    codes = area.ancestor_codes[:-1]
    return Area.objects.filter(code__in=codes).order_by("level")


def grid_workers(grid: Area) -> QuerySet[StaffPost]:
    return StaffPost.objects.filter(area=grid, role=Role.GRID_WORKER, is_active=True).select_related("user")


def microgrid_head(microgrid: Area) -> StaffPost | None:
    return (
        StaffPost.objects.filter(area=microgrid, role=Role.MICROGRID_HEAD, is_active=True)
        .select_related("user")
        .first()
    )
