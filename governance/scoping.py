"""The one scoping helper every query of area data or cases goes through.

`scope_for(user)` reads the user's active posts once per request and returns a `Scope`:
the minimal set of area paths the user sees (a subtree each), the departments they act for, and
whether they see everything. `Scope.filter(queryset, path_field=…, department_field=…)` turns
that into one WHERE condition. Out-of-scope and missing objects look the same to callers (404).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Model, Q, QuerySet
from django.http import Http404

from governance.models import DEPARTMENT_ROLES, Role, StaffPost
from grids.models import AreaLevel

if TYPE_CHECKING:
    from grids.models import Area

M = TypeVar("M", bound=Model)

# Records located in the area tree (petitions, buildings, houses, residents, party groups) store
# their area at every level below the district, one indexed column each, plus the path of the
# deepest one. A scope at one of these levels is one equality on an index led by that column; a
# district scope is the path prefix. This is the one rule every app scopes such records by.
LEVEL_FIELDS: dict[int, str] = {
    AreaLevel.STREET: "street_id",
    AreaLevel.COMMUNITY: "community_id",
    AreaLevel.GRID: "grid_id",
    AreaLevel.MICROGRID: "microgrid_id",
}
LEVEL_PATH_FIELD = "area_path"
# The level columns' names as model fields (FKs to grids.Area), by level.
LEVEL_COLUMNS: dict[int, str] = {
    AreaLevel.STREET: "street",
    AreaLevel.COMMUNITY: "community",
    AreaLevel.GRID: "grid",
    AreaLevel.MICROGRID: "microgrid",
}

_CACHE_ATTR = "_governance_scope"


@dataclass(frozen=True)
class Scope:
    user_id: int | None
    sees_all: bool = False
    area_paths: tuple[str, ...] = ()
    # (path, level, id) of each area in `area_paths`, for records that store one column per level.
    areas: tuple[tuple[str, int, int], ...] = ()
    department_ids: tuple[int, ...] = ()
    roles: frozenset[str] = field(default_factory=frozenset)
    # The departments the user leads (a department leader's post): they assign its parts to handlers.
    led_department_ids: tuple[int, ...] = ()
    # (role, path, level, id) of each active post with an area: the rows that narrow a scope by
    # role (residents.policy) read these instead of the posts again.
    posts: tuple[tuple[str, str, int, int], ...] = ()

    @property
    def is_staff_member(self) -> bool:
        return self.sees_all or bool(self.roles)

    @property
    def is_department_member(self) -> bool:
        return bool(self.roles & DEPARTMENT_ROLES)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def area_condition(self, path_field: str = "path") -> Q | None:
        """A Q for rows whose `path_field` lies in the user's subtrees; None means no area at all."""
        if not self.area_paths:
            return None
        return reduce(or_, (Q(**{f"{path_field}__startswith": path}) for path in self.area_paths))

    def level_condition(self, level_fields: dict[int, str], path_field: str) -> Q | None:
        """Like `area_condition`, for records that also store the id of their area at each level.

        `level_fields` maps an area level to the record's column holding its area of that level
        (e.g. {COMMUNITY: "community_id"}). Equality on that column, served by an index led by it,
        replaces the path prefix where it can; other levels keep the prefix on `path_field`.
        """
        if not self.areas:
            return None
        conditions = []
        for path, level, area_id in self.areas:
            field_name = level_fields.get(level)
            conditions.append(Q(**{field_name: area_id}) if field_name else Q(**{f"{path_field}__startswith": path}))
        return reduce(or_, conditions)

    def level_filter(self, queryset: QuerySet[M], *, prefix: str = "") -> QuerySet[M]:
        """Rows of a record with level columns (`LEVEL_FIELDS`) inside the user's subtrees.

        `prefix` reaches the columns through a relation ("house__"). Nobody outside an area sees
        nothing; administrators see everything.
        """
        if self.sees_all:
            return queryset
        condition = levels_condition(self.areas, prefix=prefix)
        if condition is None:
            return queryset.none()
        return queryset.filter(condition)

    def sees_levels(self, record: Any) -> bool:
        """Whether a record with level columns lies in the user's subtrees (no query)."""
        if self.sees_all:
            return True
        for path, level, area_id in self.areas:
            field_name = LEVEL_FIELDS.get(level)
            if field_name is not None:
                if getattr(record, field_name, None) == area_id:
                    return True
            elif (getattr(record, LEVEL_PATH_FIELD, "") or "").startswith(path):
                return True
        return False

    def filter(
        self, queryset: QuerySet[M], *, path_field: str | None = "path", department_field: str | None = None
    ) -> QuerySet[M]:
        """Rows in the user's areas, or (if `department_field` is given) handled by their departments."""
        if self.sees_all:
            return queryset
        conditions: list[Q] = []
        if path_field is not None:
            area_q = self.area_condition(path_field)
            if area_q is not None:
                conditions.append(area_q)
        if department_field is not None and self.department_ids:
            conditions.append(Q(**{f"{department_field}__in": self.department_ids}))
        if not conditions:
            return queryset.none()
        return queryset.filter(reduce(or_, conditions))

    def sees_path(self, path: str) -> bool:
        return self.sees_all or any(path.startswith(prefix) for prefix in self.area_paths)

    def sees_area(self, area: Area) -> bool:
        return self.sees_path(area.path)

    def sees_department(self, department_id: int) -> bool:
        return self.sees_all or department_id in self.department_ids


def _minimal_paths(paths: list[str]) -> tuple[str, ...]:
    """Drop paths inside another path of the list, so conditions do not overlap."""
    result: list[str] = []
    for path in sorted(set(paths)):
        if not result or not path.startswith(result[-1]):
            result.append(path)
    return tuple(result)


def scope_for(user: Any) -> Scope:
    """The user's scope, computed once and cached on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Scope(user_id=None)
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    return prime_scope(user, list(StaffPost.objects.filter(user=user, is_active=True).values_list(*POST_COLUMNS)))


# What `scope_for` reads of each active post (governance.sessions reads the same with the session).
POST_COLUMNS = ("role", "area__path", "department_id", "area__level", "area_id")


def prime_scope(user: Any, posts: list[tuple]) -> Scope:
    """The scope of `user` from the rows of POST_COLUMNS of their active posts, cached on the user."""
    roles = frozenset(post[0] for post in posts)
    paths = _minimal_paths([post[1] for post in posts if post[1]])
    by_path = {post[1]: (post[1], post[3], post[4]) for post in posts if post[1]}
    scope = Scope(
        user_id=user.pk,
        sees_all=bool(user.is_superuser) or Role.ADMINISTRATOR in roles,
        area_paths=paths,
        areas=tuple(by_path[path] for path in paths),
        department_ids=tuple(sorted({post[2] for post in posts if post[2]})),
        roles=roles,
        led_department_ids=tuple(sorted({post[2] for post in posts if post[2] and post[0] == Role.DEPARTMENT_LEADER})),
        posts=tuple((post[0], post[1], post[3], post[4]) for post in posts if post[1]),
    )
    setattr(user, _CACHE_ATTR, scope)
    return scope


def levels_condition(areas: Iterable[tuple[str, int, int]], *, prefix: str = "") -> Q | None:
    """The Q of records with level columns inside any of `areas` ((path, level, id) each), or None.

    The one rule: equality on the column of the area's level, the path prefix for a district.
    Callers that narrow a scope by role (residents.policy) pass the areas of those roles only.
    """
    conditions = []
    for path, level, area_id in areas:
        field_name = LEVEL_FIELDS.get(level)
        if field_name is not None:
            conditions.append(Q(**{prefix + field_name: area_id}))
        else:
            conditions.append(Q(**{f"{prefix}{LEVEL_PATH_FIELD}__startswith": path}))
    return reduce(or_, conditions) if conditions else None


def level_scoped(user: Any, queryset: QuerySet[M], *, prefix: str = "") -> QuerySet[M]:
    """`queryset` narrowed to the rows whose level columns lie in the user's subtrees."""
    return scope_for(user).level_filter(queryset, prefix=prefix)


def level_values(area: Area) -> dict[str, Any]:
    """The level columns (as `<name>_id` values) and path of a record located in `area`.

    `area` is a micro-grid or any coarser area; the levels below it stay empty. One query for
    the area's ancestors.
    """
    from grids.models import Area as AreaModel

    chain = {a.level: a.pk for a in AreaModel.objects.filter(code__in=area.ancestor_codes).only("id", "level")}
    values: dict[str, Any] = {f"{name}_id": chain.get(level) for level, name in LEVEL_COLUMNS.items()}
    values[LEVEL_PATH_FIELD] = area.path
    return values


def forget_scope(user: Any) -> None:
    """Drop the cached scope after the user's posts change."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def get_in_scope(
    user: Any,
    queryset: QuerySet[M],
    *,
    path_field: str | None = "path",
    department_field: str | None = None,
    **lookup: Any,
) -> M:
    """One object the user may see; missing and out-of-scope both raise the same Http404."""
    scoped = scope_for(user).filter(queryset, path_field=path_field, department_field=department_field)
    try:
        return scoped.get(**lookup)
    except queryset.model.DoesNotExist:
        raise Http404 from None
