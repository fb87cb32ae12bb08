"""Everything that writes areas."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from grids.models import Area, AreaLevel, BoundaryRevision
from grids.spatial import invalidate_index


def boundary_revision_bump() -> None:
    """Mark boundaries as changed; every process rebuilds its point index (this one at once).

    Call inside the transaction that changed the boundaries.
    """
    updated = BoundaryRevision.objects.filter(pk=1).update(revision=F("revision") + 1)
    if not updated:
        BoundaryRevision.objects.get_or_create(pk=1, defaults={"revision": 1})
    transaction.on_commit(invalidate_index)


@transaction.atomic
def area_create(
    *,
    code: str,
    name: str,
    level: int,
    parent: Area | None = None,
    boundary: dict | None = None,
    households: int | None = None,
) -> Area:
    if level == AreaLevel.DISTRICT:
        if parent is not None:
            raise ValueError("A district has no parent.")
    elif parent is None or parent.level != level - 1:
        raise ValueError(f"An area of level {level} needs a parent of level {level - 1}.")
    area = Area.objects.create(
        code=code,
        name=name,
        level=level,
        parent=parent,
        path=Area.build_path(parent.path if parent else None, code),
        boundary=boundary,
        households=households if level == AreaLevel.MICROGRID else None,
    )
    if boundary is not None and level == AreaLevel.MICROGRID:
        boundary_revision_bump()
    return area
