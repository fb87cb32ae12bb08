"""The access log: one row for every unmasked look at personal data and every export of it.

Pages, the API, the admin and exports call `access_log_write`; the rows are append-only
(`governance.models.AccessLog`) and administrators search them in the admin.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models

from governance.clientip import client_ip
from governance.models import AccessLog

# bulk_create batch for exports of many records.
WRITE_BATCH = 500
PATH_MAX = 300


@dataclass(frozen=True)
class AccessRecord:
    """One record whose `fields` were shown unmasked or exported."""

    model: str
    object_id: str
    record: str
    fields: tuple[str, ...]


def access_record(obj: models.Model, fields: Sequence[str], *, record: str = "") -> AccessRecord:
    """The AccessRecord of a model instance; `record` is what people search by (a tracking number)."""
    return AccessRecord(
        model=obj._meta.label_lower, object_id=str(obj.pk), record=record or str(obj.pk), fields=tuple(fields)
    )


def request_client_ip(request: Any) -> str | None:
    """Where the request came from, by the trusted-proxy rule (`governance.clientip`)."""
    if request is None:
        return None
    return client_ip(request) or None


def access_log_write(
    *, user: Any, reason: str, records: Iterable[AccessRecord], request: Any = None, actor: str = ""
) -> int:
    """Append one row per record (in batches, for exports); returns how many were written.

    `request` gives the client IP and the path; `actor` names a system export with no user.
    """
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    ip = request_client_ip(request)
    path = (request.get_full_path() if request is not None else "")[:PATH_MAX]
    name = actor or (user.get_username() if user is not None else "")
    rows = [
        AccessLog(
            user=user,
            actor=name[:150],
            model=record.model,
            object_id=record.object_id[:64],
            record=record.record[:64],
            fields=",".join(record.fields)[:200],
            reason=reason,
            ip=ip,
            path=path,
        )
        for record in records
    ]
    AccessLog.objects.bulk_create(rows, batch_size=WRITE_BATCH)
    return len(rows)
