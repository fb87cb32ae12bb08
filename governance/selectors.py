"""Everything that reads areas for a screen or an API; all of it through the user's scope."""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

from django.db.models import Count, QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from governance.models import Department, Role, StaffPost
from governance.scoping import get_in_scope, scope_for
from grids.models import PATH_SEPARATOR, Area


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


# --- Areas by code, per process --------------------------------------------------------------------
# Intake places a petition in an area and its ancestors (one column per level): each process keeps
# the areas it has read, by code, and re-reads them after AREA_CACHE_SECONDS, or at once when this
# process saved or deleted an area. Codes, levels and ids do not change once an area exists.
AREA_CACHE_SECONDS = 60
AREA_CACHE_FIELDS = ("id", "code", "name", "level", "parent_id", "path")

_area_lock = threading.Lock()
_area_cache: dict[str, Area] = {}
_area_cache_since = 0.0


def _cached_areas(codes: list[str]) -> dict[str, Area]:
    """The cache's areas of these codes, read from the database once for what it lacks."""
    global _area_cache, _area_cache_since
    if time.monotonic() - _area_cache_since > AREA_CACHE_SECONDS:
        with _area_lock:
            _area_cache, _area_cache_since = {}, time.monotonic()
    cache = _area_cache
    missing = [code for code in codes if code not in cache]
    if missing:
        found = {a.code: a for a in Area.objects.filter(code__in=missing).only(*AREA_CACHE_FIELDS)}
        with _area_lock:
            cache.update(found)
    return cache


def area_chain(path: str) -> dict[int, Area]:
    """The area at `path` and its ancestors, by level: from the cache, one query for what it lacks.

    The objects are copies (only AREA_CACHE_FIELDS loaded), safe to assign to foreign keys.
    """
    codes = [part for part in path.split(PATH_SEPARATOR) if part]
    cache = _cached_areas(codes)
    return {area.level: copy.copy(area) for code in codes if (area := cache.get(code)) is not None}


def area_by_code(code: str) -> Area | None:
    """One area by code (cached as in `area_chain`), or None."""
    area = _cached_areas([code]).get(code)
    return copy.copy(area) if area is not None else None


def area_at_path(path: str) -> Area | None:
    """The area whose path is `path` (cached as in `area_chain`)."""
    return next((area for area in area_chain(path).values() if area.path == path), None)


def areas_cache_clear() -> None:
    global _area_cache
    with _area_lock:
        _area_cache = {}


@receiver([post_save, post_delete], sender=Area, dispatch_uid="grids.areas_cache_clear")
def _area_changed(**_kwargs: Any) -> None:
    areas_cache_clear()


# --- Department names, per process ----------------------------------------------------------------
# Every worklist row names the department holding a dispatched case: each process keeps the names
# (a few hundred rows) and re-reads them after DEPARTMENT_CACHE_SECONDS, at once when this process
# saved or deleted a department, or when asked for an id it does not hold (one created elsewhere).
DEPARTMENT_CACHE_SECONDS = 60

_department_names: tuple[float, dict[int, str]] | None = None


def department_names(wanted: Any = ()) -> dict[int, str]:
    """Every department's name by id; re-read when one of the `wanted` ids is missing."""
    global _department_names
    cached = _department_names
    if (
        cached is not None
        and time.monotonic() - cached[0] < DEPARTMENT_CACHE_SECONDS
        and all(pk in cached[1] for pk in wanted)
    ):
        return cached[1]
    names = dict(Department.objects.values_list("pk", "name"))
    _department_names = (time.monotonic(), names)
    return names


def department_names_clear() -> None:
    global _department_names
    _department_names = None


@receiver([post_save, post_delete], sender=Department, dispatch_uid="governance.department_names_clear")
def _department_changed(**_kwargs: Any) -> None:
    department_names_clear()
