"""Periodic sweeps over rows: deadlines, reminders, unrouted petitions, unrated resolutions.

Each sweep takes bounded batches with `SELECT … FOR UPDATE SKIP LOCKED`, so two sweepers running
at once split the work and never touch the same row twice.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.models import TIMED_STATUSES, EventType, Petition, Status
from appeals.services import _base
from appeals.services.handling import escalate_locked, handler_notice

SWEEP_BATCH_SIZE = 500
# A submitted petition older than this without routing was dropped by the broker.
UNROUTED_GRACE = timedelta(seconds=30)


def _locked_batch(**conditions) -> list[Petition]:
    return list(
        Petition.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("handler_area", "grid", "community", "street")
        .filter(**conditions)
        .order_by("deadline_at")[:SWEEP_BATCH_SIZE]
    )


def petitions_escalate_overdue(*, max_batches: int = 100) -> int:
    """Escalate every petition whose deadline has passed one tier up; returns how many."""
    total = 0
    for _batch in range(max_batches):
        with transaction.atomic():
            now = _base.now()
            rows = _locked_batch(status__in=TIMED_STATUSES, deadline_at__lte=now)
            writes = _base.Writes(bulk=True)
            note = _("Deadline passed.")
            for petition in rows:
                # escalate_locked takes the move: auto_escalate, or auto_supervise where nobody takes over.
                escalate_locked(petition, actor=None, note=note, automatic=True, now=now, writes=writes)
            writes.flush()
        total += len(rows)
        if len(rows) < SWEEP_BATCH_SIZE:
            break
    return total


def petitions_send_reminders(*, max_batches: int = 100) -> int:
    """Remind the handling unit when 80% of its time has gone (once per clock)."""
    total = 0
    for _batch in range(max_batches):
        with transaction.atomic():
            now = _base.now()
            rows = list(
                Petition.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("handler_area")
                .filter(status__in=TIMED_STATUSES, remind_at__lte=now)
                .order_by("remind_at")[:SWEEP_BATCH_SIZE]
            )
            writes = _base.Writes(bulk=True)
            for petition in rows:
                petition.remind_at = None
                writes.save(petition, ["remind_at"])
                writes.record(petition, EventType.REMINDED, from_status=petition.status, at=now)
                deadline = timezone.localtime(petition.deadline_at).strftime("%Y-%m-%d %H:%M")
                writes.notify(
                    handler_notice(
                        petition,
                        "reminder",
                        _("Petition %(no)s is due at %(deadline)s.")
                        % {"no": petition.tracking_no, "deadline": deadline},
                    )
                )
            writes.flush()
        total += len(rows)
        if len(rows) < SWEEP_BATCH_SIZE:
            break
    return total


def petitions_route_unrouted() -> int:
    """Route petitions whose routing task the broker lost. Each call routes one bounded batch."""
    from appeals.services.intake import petition_route

    cutoff = _base.now() - UNROUTED_GRACE
    ids = list(
        Petition.objects.filter(status=Status.SUBMITTED, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH_SIZE]
    )
    routed = 0
    for pk in ids:
        if petition_route(petition_id=pk) is not None:
            routed += 1
    return routed


def petitions_close_unrated() -> int:
    """Close resolved petitions nobody rated within the window (their call-backs are done or due)."""
    from appeals.services.outcome import petition_close

    cutoff = _base.now() - timedelta(days=settings.PETITION_AUTO_CLOSE_DAYS)
    ids = list(
        Petition.objects.filter(status=Status.RESOLVED, rating="", resolved_at__lte=cutoff).values_list(
            "pk", flat=True
        )[:SWEEP_BATCH_SIZE]
    )
    for pk in ids:
        petition_close(petition_id=pk, actor=None, note=_("Closed after the rating window."))
    return len(ids)
