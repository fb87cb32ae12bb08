"""What every request of 政策找人 draws and what rarely changes, kept per process: tags and the
area picker's rows.

The live count is asked on every change of a condition, so its own cost is the session and the
count: validating the chosen tags, naming them, listing them in the form and drawing a page's tag
badges read these copies instead of the database. Each copy is re-read after CACHE_SECONDS, or at
once when this process saves or deletes a tag or an area (another process sees such a change
within CACHE_SECONDS). The residents themselves are never cached.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from django.db.models.signals import post_delete, post_save

from grids.models import Area, AreaLevel
from residents.models import Tag

CACHE_SECONDS = 30
# The area picker lists the two levels below each of the reader's posts (a district: streets and
# communities; a community: its grids and micro-grids). Deeper areas are reached by a post there.
PICKER_DEPTH = 2

_lock = threading.Lock()
_tags: tuple[float, dict[int, TagRow]] | None = None
_pickers: dict[tuple, tuple[float, list[PickerArea]]] = {}


@dataclass(frozen=True)
class TagRow:
    id: int
    code: str
    name: str
    community_path: str  # "" for a district-wide tag
    is_active: bool
    sort_order: int


@dataclass(frozen=True)
class PickerArea:
    id: int
    name: str
    level: int
    path: str


def finder_tags() -> dict[int, TagRow]:
    """Every tag (inactive ones too: a resident may still carry one) by id, in display order."""
    global _tags
    cached = _tags
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    rows = Tag.objects.order_by("sort_order", "code", "pk").values_list(
        "pk", "code", "name", "community__path", "is_active", "sort_order"
    )
    tags = {pk: TagRow(pk, code, name, path or "", active, order) for pk, code, name, path, active, order in rows}
    with _lock:
        _tags = (time.monotonic(), tags)
    return tags


def tags_offered(scope: Any) -> list[TagRow]:
    """Active district-wide tags and those of the communities in the reader's subtree, in order."""
    tags = [tag for tag in finder_tags().values() if tag.is_active]
    if scope.sees_all:
        return tags
    return [
        tag
        for tag in tags
        if not tag.community_path or any(tag.community_path.startswith(path) for path in scope.area_paths)
    ]


def tag_names(tag_ids: Any) -> list[str]:
    """The names of these tags in display order (ids no longer known are left out)."""
    wanted = set(tag_ids)
    return [tag.name for tag in finder_tags().values() if tag.id in wanted]


def picker_areas(scope: Any) -> list[PickerArea]:
    """The areas a reader may narrow the finder to, in tree order."""
    key = ("all",) if scope.sees_all else tuple(scope.areas)
    cached = _pickers.get(key)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    from django.db.models import Q

    areas = Area.objects.order_by("path")
    if scope.sees_all:
        areas = areas.filter(level__lte=AreaLevel.COMMUNITY)
    else:
        condition = Q(pk__in=[])
        for path, level, _area_id in scope.areas:
            condition |= Q(path__startswith=path, level__lte=level + PICKER_DEPTH)
        areas = areas.filter(condition)
    rows = [PickerArea(*row) for row in areas.values_list("pk", "name", "level", "path")]
    with _lock:
        if len(_pickers) > 2000:  # bounded: one entry per distinct set of posts
            _pickers.clear()
        _pickers[key] = (time.monotonic(), rows)
    return rows


def finder_cache_clear(**_kwargs: Any) -> None:
    global _tags
    with _lock:
        _tags = None
        _pickers.clear()


for _model in (Tag, Area):
    post_save.connect(finder_cache_clear, sender=_model, dispatch_uid=f"finder_cache_{_model.__name__}_save")
    post_delete.connect(finder_cache_clear, sender=_model, dispatch_uid=f"finder_cache_{_model.__name__}_delete")
