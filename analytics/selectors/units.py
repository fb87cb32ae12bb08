"""Names of what figures point at: areas, departments, categories (UnitRef in REPORT_CONTRACT.md)."""

from __future__ import annotations

from typing import Any

from appeals.models import Category
from governance.models import Department
from grids.models import Area, AreaLevel

LEVEL_KEYS = {
    AreaLevel.DISTRICT: "district",
    AreaLevel.STREET: "street",
    AreaLevel.COMMUNITY: "community",
    AreaLevel.GRID: "grid",
    AreaLevel.MICROGRID: "microgrid",
}


def area_ref(area: Area) -> dict[str, Any]:
    return {"id": area.pk, "code": area.code, "name": area.name, "level": LEVEL_KEYS[area.level]}


def department_ref(department: Department) -> dict[str, Any]:
    return {"id": department.pk, "code": department.code, "name": department.name, "kind": department.kind}


def child_areas(area: Area) -> list[Area]:
    """The units one level below the area, in path order (none below a micro-grid)."""
    return list(Area.objects.filter(parent=area).order_by("path"))


def departments_by_id(ids) -> dict[int, Department]:
    ids = {i for i in ids if i is not None}
    return {d.pk: d for d in Department.objects.filter(pk__in=ids)} if ids else {}


def categories_by_id() -> dict[int, Category]:
    """Every class and sub-class (a few hundred rows at most)."""
    return {c.pk: c for c in Category.objects.all()}
