"""Reading the 12345 reply-back (回单): who sees which replies, the cursor, the hotline's columns.

Replies are seen by the district centre, street command centres (their own streets) and
administrators — the roles that import hotline orders. Rows come in a stable order, (txid, id):
the writing transaction's id, then the row's. On PostgreSQL only rows of transactions older than
every transaction still running are read, so a reply that commits later always sorts after every
row already handed out: a cursor never skips one, and reading the same cursor again gives the
same rows (plus, at the end, rows committed since). The cursor is opaque to clients.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.models import HotlineReply
from governance.errors import DomainError, Forbidden
from governance.models import Role
from governance.scoping import scope_for

REPLY_ROLES = (Role.DISTRICT_CENTRE, Role.STREET_COMMAND)
PAGE_LIMIT = 100
MAX_LIMIT = 500


def require_reply_reader(user: Any) -> None:
    scope = scope_for(user)
    if not (scope.sees_all or scope.has_role(*REPLY_ROLES)):
        raise Forbidden(_("Only the district or a street command centre may read the hotline replies."))


def replies_visible_to(user: Any) -> QuerySet[HotlineReply]:
    """The replies of the user's areas (all for administrators), settled rows only on PostgreSQL."""
    queryset = scope_for(user).filter(HotlineReply.objects.all(), path_field="area_path")
    if connection.vendor == "postgresql":
        # Rows of transactions that can no longer commit anything older; plus this transaction's own.
        queryset = queryset.filter(
            Q(txid__lt=RawSQL("pg_snapshot_xmin(pg_current_snapshot())::text::bigint", []))
            | Q(txid=RawSQL("coalesce(pg_current_xact_id_if_assigned()::text::bigint, -1)", []))
        )
    return queryset


# A cursor is "<txid>-<id>" of the last row read; clients treat it as opaque.
CURSOR_PATTERN = r"^[0-9]{1,18}-[0-9]{1,18}$"
# fullmatch: "$" alone would let a trailing newline through.
_CURSOR_RE = re.compile(r"[0-9]{1,18}-[0-9]{1,18}")


def encode_cursor(reply: HotlineReply) -> str:
    return f"{reply.txid}-{reply.pk}"


def decode_cursor(cursor: str) -> tuple[int, int]:
    if not _CURSOR_RE.fullmatch(cursor):
        raise DomainError(
            _("The cursor is not valid; use the “next” value of an earlier answer, or leave it out."),
            code="bad_cursor",
        )
    txid, pk = cursor.split("-")
    return int(txid), int(pk)


def replies_after(user: Any, cursor: str = "", *, limit: int = PAGE_LIMIT) -> tuple[list[HotlineReply], bool]:
    """Up to `limit` replies after `cursor` (from the start when empty), in cursor order; and whether more follow."""
    queryset = replies_visible_to(user)
    if cursor:
        txid, pk = decode_cursor(cursor)
        queryset = queryset.filter(Q(txid__gt=txid) | Q(txid=txid, pk__gt=pk))
    rows = list(queryset.order_by("txid", "pk")[: limit + 1])
    return rows[:limit], len(rows) > limit


def parse_limit(value: str | None) -> int:
    if value is None:
        return PAGE_LIMIT
    # ASCII digits only: int() would also take " 5", "+5", "5_0" or "٥", which the schema refuses.
    limit = int(value) if re.fullmatch(r"[0-9]{1,3}", value) else 0
    if not 1 <= limit <= MAX_LIMIT:
        raise DomainError(
            _("“limit” must be a whole number from 1 to %(max)s.") % {"max": MAX_LIMIT}, code="validation_error"
        )
    return limit


# --- The hotline's columns (HOTLINE_REPLY_COLUMNS) ---------------------------------------------------


def field_value(reply: HotlineReply, field: str) -> Any:
    """One field of a reply as the hotline's file carries it (times in Asia/Shanghai)."""
    if field == "result":
        return reply.get_result_display()
    if field == "unit":
        return reply.unit_name
    if field == "resolved_at":
        return timezone.localtime(reply.resolved_at).strftime("%Y-%m-%d %H:%M:%S")
    return getattr(reply, field)


def column_headers() -> list[str]:
    return list(settings.HOTLINE_REPLY_COLUMNS)


def column_rows(replies: Iterable[HotlineReply]) -> Iterable[list[Any]]:
    fields = list(settings.HOTLINE_REPLY_COLUMNS.values())
    for reply in replies:
        yield [field_value(reply, field) for field in fields]
