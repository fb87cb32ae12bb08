"""Periodic sweeps over rows: deadlines, reminders, unrouted petitions, unrated resolutions.

Each sweep takes bounded batches with `SELECT … FOR UPDATE SKIP LOCKED`, so two sweepers running
at once split the work and never touch the same row twice.

One bad row never stops a sweep: each item is isolated. A batch is first written in bulk; if that
fails, it is redone row by row, each in its own savepoint, and a row that still fails gets its
error recorded (`Petition.sweep_error`, `sweep_failed_at`). Sweeps skip recorded rows until
someone fixes the row and clears the mark (`petition_sweep_failure_clear`, an admin action);
the district sees them in the staff list's "sweep failures" tab.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.models import TIMED_STATUSES, EventType, Petition, Status
from appeals.services import _base
from appeals.services.handling import escalate_locked, handler_notice
from governance.errors import DomainError

logger = logging.getLogger(__name__)

SWEEP_BATCH_SIZE = 500
# A submitted petition older than this without routing was dropped by the broker.
UNROUTED_GRACE = timedelta(seconds=30)
# How much of a failure's text is kept on the row.
SWEEP_ERROR_MAX = 500
RELATED = ("handler_area", "grid", "community", "street")


def sweep_failure_record(*, petition_id: int, sweep: str, error: BaseException) -> None:
    """Mark the row so sweeps skip it until fixed; written without loading the (maybe unreadable) row."""
    text = f"{sweep}: {type(error).__name__}: {error}"[:SWEEP_ERROR_MAX]
    logger.error("Sweep %s skipped petition %s: %s", sweep, petition_id, text)
    Petition.objects.filter(pk=petition_id).update(sweep_error=text, sweep_failed_at=timezone.now())


def petition_sweep_failure_clear(*, petition_ids: list[int]) -> int:
    """The row was fixed: the sweeps take it again. Returns how many marks were cleared."""
    return Petition.objects.filter(pk__in=petition_ids, sweep_failed_at__isnull=False).update(
        sweep_error="", sweep_failed_at=None
    )


def _claim_ids(*, order_by: str, **conditions) -> list[int]:
    """Lock one batch of sweepable rows (skipping rows other sweepers hold) and return their ids.

    Only ids are read here: a row whose other columns cannot even be loaded is isolated later.
    """
    return list(
        Petition.objects.select_for_update(skip_locked=True)
        .filter(sweep_failed_at__isnull=True, **conditions)
        .order_by(order_by)
        .values_list("pk", flat=True)[:SWEEP_BATCH_SIZE]
    )


def _load(ids: list[int]) -> list[Petition]:
    return list(Petition.objects.select_related(*RELATED).filter(pk__in=ids).order_by("pk"))


def _apply_isolated(ids: list[int], apply: Callable[[Petition, _base.Writes], None], *, sweep: str) -> int:
    """Apply `apply` to the locked rows `ids`: in bulk, or row by row when the bulk pass fails."""
    try:
        with transaction.atomic():
            writes = _base.Writes(bulk=True)
            rows = _load(ids)
            for petition in rows:
                apply(petition, writes)
            writes.flush()
        return len(rows)
    except Exception:
        logger.warning("Sweep %s: a batch of %s failed; retrying row by row.", sweep, len(ids), exc_info=True)
    done = 0
    for pk in ids:
        try:
            with transaction.atomic():
                for petition in _load([pk]):
                    apply(petition, _base.Writes())
                    done += 1
        except Exception as error:
            sweep_failure_record(petition_id=pk, sweep=sweep, error=error)
    return done


def petitions_escalate_overdue(*, max_batches: int = 100) -> int:
    """Escalate every petition whose deadline has passed one tier up; returns how many."""
    total = 0
    note = _("Deadline passed.")
    for _batch in range(max_batches):
        with transaction.atomic():
            now = _base.now()
            ids = _claim_ids(order_by="deadline_at", status__in=TIMED_STATUSES, deadline_at__lte=now)

            def escalate(petition: Petition, writes: _base.Writes, now=now) -> None:
                # escalate_locked takes the move: auto_escalate, or auto_supervise where nobody takes over.
                escalate_locked(petition, actor=None, note=note, automatic=True, now=now, writes=writes)

            total += _apply_isolated(ids, escalate, sweep="escalate")
        if len(ids) < SWEEP_BATCH_SIZE:
            break
    return total


def _remind(petition: Petition, writes: _base.Writes, *, now) -> None:
    petition.remind_at = None
    writes.save(petition, ["remind_at"])
    writes.record(petition, EventType.REMINDED, from_status=petition.status, at=now)
    deadline = timezone.localtime(petition.deadline_at).strftime("%Y-%m-%d %H:%M")
    writes.notify(
        handler_notice(
            petition,
            "reminder",
            _("Petition %(no)s is due at %(deadline)s.") % {"no": petition.tracking_no, "deadline": deadline},
        )
    )


def petitions_send_reminders(*, max_batches: int = 100) -> int:
    """Remind the handling unit when 80% of its time has gone (once per clock)."""
    total = 0
    for _batch in range(max_batches):
        with transaction.atomic():
            now = _base.now()
            ids = _claim_ids(order_by="remind_at", status__in=TIMED_STATUSES, remind_at__lte=now)
            total += _apply_isolated(ids, lambda p, w, now=now: _remind(p, w, now=now), sweep="remind")
        if len(ids) < SWEEP_BATCH_SIZE:
            break
    return total


def petitions_route_unrouted() -> int:
    """Route petitions whose routing task the broker lost. Each call routes one bounded batch."""
    from appeals.services.intake import petition_route

    cutoff = _base.now() - UNROUTED_GRACE
    ids = list(
        Petition.objects.filter(status=Status.SUBMITTED, created_at__lte=cutoff, sweep_failed_at__isnull=True)
        .order_by("created_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH_SIZE]
    )
    routed = 0
    for pk in ids:
        try:
            if petition_route(petition_id=pk) is not None:
                routed += 1
        except Exception as error:
            sweep_failure_record(petition_id=pk, sweep="route", error=error)
    return routed


def petitions_close_unrated() -> int:
    """Close resolved petitions nobody rated within the window (their call-backs are done or due).

    Rows another transaction holds (a resident rating right now) are skipped, and a row that
    cannot be closed any more (rated meanwhile) is left alone: neither stops the batch.
    """
    from appeals.services.outcome import petition_close

    cutoff = _base.now() - timedelta(days=settings.PETITION_AUTO_CLOSE_DAYS)
    note = _("Closed after the rating window.")
    closed = 0
    with transaction.atomic():
        ids = _claim_ids(order_by="resolved_at", status=Status.RESOLVED, rating="", resolved_at__lte=cutoff)
        for pk in ids:
            try:
                with transaction.atomic():
                    petition_close(petition_id=pk, actor=None, note=note)
                closed += 1
            except DomainError as conflict:
                logger.info("Not closing petition %s: %s", pk, conflict.message)
            except Exception as error:
                sweep_failure_record(petition_id=pk, sweep="close", error=error)
    return closed
