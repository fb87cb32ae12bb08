"""The change history of records (`RecordChange`): one row per change, written with the change."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db import models

from governance.identity import person_name
from residents.models import RecordChange

# Fields whose values never enter the history: only that they changed.
SECRET_FIELDS = frozenset({"id_number", "phone", "id_number_hash", "phone_hash"})
CHANGED = "*"


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} of the fields that changed; secret fields as ["*", "*"]."""
    changes: dict[str, list[Any]] = {}
    for field, new in after.items():
        old = before.get(field)
        if old == new:
            continue
        changes[field] = [CHANGED, CHANGED] if field in SECRET_FIELDS else [_plain(old), _plain(new)]
    return changes


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    return {field: getattr(obj, field) for field in fields}


def record_change(
    obj: models.Model,
    action: str,
    *,
    actor: Any = None,
    changes: dict[str, list[Any]] | None = None,
    note: str = "",
) -> RecordChange:
    return RecordChange.objects.create(**change_values(obj, action, actor=actor, changes=changes, note=note))


def change_values(
    obj: models.Model, action: str, *, actor: Any = None, changes: dict | None = None, note: str = ""
) -> dict[str, Any]:
    """The fields of one RecordChange (for bulk_create by imports and the purge)."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return {
        "record_type": obj._meta.model_name,
        "record_id": obj.pk,
        "action": action,
        "changes": changes or {},
        "actor": actor,
        "actor_name": (person_name(actor) if actor is not None else "")[:150],
        "note": note[:200],
    }
