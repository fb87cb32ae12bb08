"""The in-app bell: a user's own notifications (the same rows the outbox sends by SMS), read-only.

Writes (marking read) live in `appeals.services.inbox`. A user only ever sees rows addressed to
them: every query here starts from `recipient=user`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from django.db import connections
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from appeals.models import Notification

# What each kind of notice is, in the bell's words. Kinds not listed show as "Notice".
KIND_LABELS = {
    "new_petition": _("New assignment"),
    "escalated": _("Escalated to you"),
    "overdue": _("Overdue"),
    "dispatched": _("Dispatched to your department"),
    "handler_assigned": _("Assigned to you"),
    "returned": _("Returned"),
    "reopened": _("Reopened"),
    "urged": _("Urged"),
    "supervised": _("Supervised"),
    "extension_asked": _("Extension to decide"),
    "extension_granted": _("Extension granted"),
    "extension_refused": _("Extension refused"),
    "received": _("Received"),
    "resolved": _("Handled"),
}
# The header shows at most this; beyond it "99+".
UNREAD_CAP = 99
# Its name among the figures the session's statement reads (`governance.sessions.register_session_read`).
BELL_READ = "bell_unread"


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, _("Notice")))


def inbox_for(user: Any, *, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's notifications, newest first, with their petition's tracking number."""
    rows = (
        Notification.objects.filter(recipient=user)
        .select_related("petition")
        .only("pk", "kind", "message", "created_at", "read_at", "petition__tracking_no")
    )
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return rows.order_by("-created_at", "-pk")


def unread_count(user: Any) -> int:
    """How many are unread, counted up to UNREAD_CAP + 1 (the partial index keeps it one probe)."""
    if not (user and user.is_authenticated):
        return 0
    # Every staff page's header asks this: the statement is written once, not compiled by the ORM
    # per request (~0.4 ms). It is `filter(recipient=user, read_at__isnull=True)[:cap + 1].count()`.
    with connections[Notification.objects.db].cursor() as cursor:
        cursor.execute(_unread_sql(), [user.pk])
        return cursor.fetchone()[0]


def _unread_count_sql(quote: Callable[[str], str], recipient_id: str) -> str:
    """`filter(recipient=…, read_at__isnull=True)[:cap + 1].count()` for the recipient `recipient_id` (SQL)."""
    meta = Notification._meta
    recipient, read_at = meta.get_field("recipient").column, meta.get_field("read_at").column
    return (
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {quote(meta.db_table)} n WHERE n.{quote(recipient)} = {recipient_id}"
        f" AND n.{quote(read_at)} IS NULL LIMIT {UNREAD_CAP + 1}) unread"
    )


def unread_subquery(quote: Callable[[str], str]) -> str:
    """The count over the session statement's `s."user_id"` (`governance.sessions.register_session_read`)."""
    return _unread_count_sql(quote, f"s.{quote('user_id')}")


@cache
def _unread_sql() -> str:
    return _unread_count_sql(connections[Notification.objects.db].ops.quote_name, "%s")
