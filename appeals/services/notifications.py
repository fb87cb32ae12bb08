"""The notification outbox: rows written inside the causing transaction, sent after it.

Sending happens outside any transaction: a batch is claimed (leased) in a short transaction,
sent, and each row marked sent or rescheduled with exponential backoff.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from appeals.models import Notification, NotificationStatus, Petition
from governance.models import StaffPost
from grids.models import Area

logger = logging.getLogger(__name__)

SEND_BATCH_SIZE = 100
MAX_ATTEMPTS = 6
# While a sender holds a claimed row, nobody else takes it; a crashed sender's rows come back then.
LEASE = timedelta(minutes=5)


def notification_create(
    *,
    message: str,
    kind: str,
    petition: Petition | None = None,
    recipient: Any = None,
    phone: str = "",
    nudge: bool = True,
) -> Notification:
    from appeals.services._base import enqueue  # local: _base imports the models this module uses

    row = Notification.objects.create(
        recipient=recipient,
        phone=phone,
        petition=petition,
        kind=kind,
        message=message,
        next_attempt_at=timezone.now(),
    )
    if nudge:
        enqueue("appeals.send_notifications")
    return row


def tracking_link(petition: Petition) -> str:
    """The resident's link to their tracking page: its secret token is the normal way in (SITE_URL + path)."""
    return settings.SITE_URL + reverse("appeals:track_token", args=[petition.access_token])


def notify_submitter_received(petition: Petition) -> Notification | None:
    """Tell the resident their petition was received: its number and the link to follow it."""
    if not (petition.contact_phone or petition.submitter_id):
        return None
    return notification_create(
        message=_("Your petition %(no)s was received. Follow it here: %(link)s")
        % {"no": petition.tracking_no, "link": tracking_link(petition)},
        kind="received",
        petition=petition,
        recipient=petition.submitter,
        phone=petition.contact_phone,
        # No task of its own: intake sends one task (routing), whose staff notices nudge the
        # sender; beat's minute sweep sends it otherwise.
        nudge=False,
    )


def notify_submitter_resolved(petition: Petition) -> list[Notification]:
    """Tell the resident their petition was handled, with the reply (by SMS to the phone given).

    The residents of the petitions merged into it hear it too, under their own tracking number
    (once per phone or account).
    """
    rows: list[Notification] = []
    reached: set[str] = set()
    merged = Petition.objects.filter(merged_into=petition).only(
        "pk", "tracking_no", "contact_phone", "submitter_id", "access_token"
    )
    for target in [petition, *merged.order_by("pk")]:
        who = {f"phone:{target.contact_phone}" if target.contact_phone else "", f"user:{target.submitter_id or ''}"}
        who -= {"", "user:"}
        if not who or who & reached:
            continue
        reached |= who
        if target is petition:
            message = _("Your petition %(no)s has been handled: %(reply)s Rate it or reopen it here: %(link)s") % {
                "no": petition.tracking_no,
                "reply": petition.reply,
                "link": tracking_link(petition),
            }
        else:
            message = _(
                "Your petition %(no)s was handled together with %(master)s: %(reply)s Follow it here: %(link)s"
            ) % {
                "no": target.tracking_no,
                "master": petition.tracking_no,
                "reply": petition.reply,
                "link": tracking_link(target),
            }
        rows.append(
            notification_create(
                message=message,
                kind="resolved",
                petition=target,
                recipient=target.submitter if target.submitter_id else None,
                phone=target.contact_phone,
            )
        )
    return rows


@dataclass(frozen=True)
class Notice:
    """A message for the staff of one area (posted to it) or of one department."""

    petition: Petition
    kind: str
    message: str
    area_id: int | None = None
    department_id: int | None = None


def notify_staff(notices: list[Notice]) -> int:
    """Write one notification per recipient of each notice: two lookups and one insert in all."""
    area_ids = {n.area_id for n in notices if n.area_id}
    department_ids = {n.department_id for n in notices if n.department_id}
    by_area: dict[int, set[int]] = {}
    by_department: dict[int, set[int]] = {}
    if area_ids:
        for area_id, user_id in StaffPost.objects.filter(area_id__in=area_ids, is_active=True).values_list(
            "area_id", "user_id"
        ):
            by_area.setdefault(area_id, set()).add(user_id)
    if department_ids:
        for department_id, user_id in StaffPost.objects.filter(
            department_id__in=department_ids, is_active=True
        ).values_list("department_id", "user_id"):
            by_department.setdefault(department_id, set()).add(user_id)
    now = timezone.now()
    rows = [
        Notification(
            recipient_id=user_id,
            petition=notice.petition,
            kind=notice.kind,
            message=notice.message,
            next_attempt_at=now,
        )
        for notice in notices
        for user_id in sorted(by_area.get(notice.area_id, set()) | by_department.get(notice.department_id, set()))
    ]
    if rows:
        from appeals.services._base import enqueue

        Notification.objects.bulk_create(rows)
        enqueue("appeals.send_notifications")
    return len(rows)


def notify_area_staff(*, area: Area | None, petition: Petition, kind: str, message: str) -> int:
    """One notification per active staff member posted to `area` itself."""
    if area is None:
        return 0
    return notify_staff([Notice(petition, kind, message, area_id=area.pk)])


def notify_department(*, department_id: int, petition: Petition, kind: str, message: str) -> int:
    return notify_staff([Notice(petition, kind, message, department_id=department_id)])


class ConsoleBackend:
    """Writes messages to the log: the default, so a laptop shows what would be sent."""

    def send(self, notification: Notification) -> None:
        target = notification.phone or f"user:{notification.recipient_id}"
        logger.info("NOTIFY %s [%s] %s", target, notification.kind, notification.message)


class WebhookBackend:
    """POSTs each message as JSON to an SMS or WeChat-template gateway (NOTIFICATION_WEBHOOK_URL).

    Body: {"id", "kind", "phone", "user_id", "petition", "message"}; any 2xx answer is success,
    anything else raises so the outbox retries with backoff. Called outside transactions only.
    """

    def __init__(self, url: str | None = None, timeout: float | None = None):
        self.url = url or settings.NOTIFICATION_WEBHOOK_URL
        self.timeout = timeout or settings.NOTIFICATION_WEBHOOK_TIMEOUT
        if not self.url:
            raise ImproperlyConfigured("WebhookBackend needs NOTIFICATION_WEBHOOK_URL.")

    def send(self, notification: Notification) -> None:
        body = json.dumps(
            {
                "id": notification.pk,
                "kind": notification.kind,
                "phone": notification.phone,
                "user_id": notification.recipient_id,
                "petition": notification.petition_id,
                "message": notification.message,
            },
            ensure_ascii=False,
        ).encode()
        request = urllib.request.Request(
            self.url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            if not 200 <= response.status < 300:
                raise ConnectionError(f"gateway answered {response.status}")


def get_backend() -> Any:
    return import_string(settings.NOTIFICATION_BACKEND)()


def _claim_due(now) -> list[Notification]:
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=NotificationStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")[:SEND_BATCH_SIZE]
        )
        if rows:
            Notification.objects.filter(pk__in=[r.pk for r in rows]).update(next_attempt_at=now + LEASE)
    return rows


def notifications_send_due(*, backend: Any = None) -> dict[str, int]:
    """Send one batch of due notifications; returns counts of sent and failed attempts."""
    backend = backend or get_backend()
    now = timezone.now()
    sent = failed = 0
    for row in _claim_due(now):
        try:
            backend.send(row)
        except Exception as exc:
            failed += 1
            attempts = row.attempts + 1
            give_up = attempts >= MAX_ATTEMPTS
            Notification.objects.filter(pk=row.pk).update(
                attempts=attempts,
                last_error=str(exc)[:500],
                status=NotificationStatus.FAILED if give_up else NotificationStatus.PENDING,
                next_attempt_at=timezone.now() + timedelta(seconds=30 * 2**attempts),
            )
            logger.warning("Notification %s failed (attempt %s): %s", row.pk, attempts, exc)
        else:
            sent += 1
            Notification.objects.filter(pk=row.pk).update(
                status=NotificationStatus.SENT, sent_at=timezone.now(), attempts=row.attempts + 1
            )
    return {"sent": sent, "failed": failed}
