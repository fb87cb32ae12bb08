"""Everything that writes areas."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import F

from grids.models import Area, AreaLevel, BoundaryChange, BoundaryRevision
from grids.spatial import invalidate_index


def boundary_revision_bump(
    *,
    actor: str = "system",
    source: str = "",
    created: Sequence[str] = (),
    updated: Sequence[str] = (),
    deleted: Sequence[str] = (),
) -> int:
    """Mark boundaries as changed and record who changed which areas; returns the new revision.

    Call inside the transaction that changed the boundaries: every process rebuilds its point
    index (this one at once, on commit), and the `BoundaryChange` audit row commits with the change.
    """
    updated_rows = BoundaryRevision.objects.filter(pk=1).update(revision=F("revision") + 1)
    if not updated_rows:
        BoundaryRevision.objects.get_or_create(pk=1, defaults={"revision": 1})
    revision = BoundaryRevision.objects.values_list("revision", flat=True).get(pk=1)
    BoundaryChange.objects.create(
        actor=actor[:100],
        source=source[:255],
        revision=revision,
        created_codes=list(created),
        updated_codes=list(updated),
        deleted_codes=list(deleted),
    )
    transaction.on_commit(invalidate_index)
    return revision


@transaction.atomic
def area_create(
    *,
    code: str,
    name: str,
    level: int,
    parent: Area | None = None,
    boundary: dict | None = None,
    households: int | None = None,
    actor: str = "system",
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
        boundary_revision_bump(actor=actor, created=[code])
    return area
