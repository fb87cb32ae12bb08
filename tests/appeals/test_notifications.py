from datetime import timedelta

import time_machine
from django.utils import timezone

from appeals.models import Notification, NotificationStatus
from appeals.services.notifications import MAX_ATTEMPTS, notification_create, notifications_send_due


class FlakyBackend:
    def __init__(self, failures: int):
        self.failures = failures
        self.sent: list[int] = []

    def send(self, notification):
        if self.failures:
            self.failures -= 1
            raise ConnectionError("SMS gateway down")
        self.sent.append(notification.pk)


def test_it_sends_pending_notifications_once(db):
    row = notification_create(message="你好", kind="test", phone="13800138000")
    backend = FlakyBackend(0)
    assert notifications_send_due(backend=backend) == {"sent": 1, "failed": 0}
    assert notifications_send_due(backend=backend) == {"sent": 0, "failed": 0}
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT and backend.sent == [row.pk]


def test_it_retries_with_growing_backoff_then_gives_up(db):
    row = notification_create(message="你好", kind="test", phone="13800138000")
    backend = FlakyBackend(failures=100)
    waits = []
    now = timezone.now()
    for _ in range(MAX_ATTEMPTS):
        with time_machine.travel(now, tick=False):
            notifications_send_due(backend=backend)
        row.refresh_from_db()
        waits.append(row.next_attempt_at - now)
        now = row.next_attempt_at + timedelta(seconds=1)
    assert row.status == NotificationStatus.FAILED and row.attempts == MAX_ATTEMPTS
    assert waits[1] > waits[0] and "SMS gateway down" in row.last_error


def test_a_claimed_row_is_not_sent_twice_by_a_second_sender(db):
    notification_create(message="你好", kind="test", phone="13800138000")
    from appeals.services.notifications import _claim_due

    claimed = _claim_due(timezone.now())
    assert len(claimed) == 1
    assert notifications_send_due(backend=FlakyBackend(0)) == {"sent": 0, "failed": 0}
    assert Notification.objects.get().status == NotificationStatus.PENDING
