"""Marking the bell's notifications read: only the recipient's own rows, idempotent."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from appeals.models import Notification


def notification_mark_read(*, user: Any, notification_id: int) -> Notification | None:
    """Mark one of the user's notifications read; None when it is not theirs (or does not exist)."""
    row = Notification.objects.filter(pk=notification_id, recipient=user).first()
    if row is None:
        return None
    if row.read_at is None:
        row.read_at = timezone.now()
        Notification.objects.filter(pk=row.pk, read_at__isnull=True).update(read_at=row.read_at)
    return row


def notifications_mark_all_read(*, user: Any) -> int:
    """Mark every unread notification of the user read; returns how many changed."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
