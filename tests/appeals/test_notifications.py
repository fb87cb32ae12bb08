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


def test_the_webhook_backend_posts_json_and_retries_on_a_gateway_error(db):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from appeals.services.notifications import WebhookBackend

    received: list[dict] = []
    answers = [503, 200]

    class Gateway(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(answers.pop(0))
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        backend = WebhookBackend(url=f"http://127.0.0.1:{server.server_port}/sms", timeout=2)
        row = notification_create(message="您的诉求已办结", kind="resolved", phone="13800138000")
        assert notifications_send_due(backend=backend) == {"sent": 0, "failed": 1}
        Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        assert notifications_send_due(backend=backend) == {"sent": 1, "failed": 0}
    finally:
        server.shutdown()
    assert received[-1] == {
        "id": row.pk,
        "kind": "resolved",
        "phone": "13800138000",
        "user_id": None,
        "petition": None,
        "message": "您的诉求已办结",
    }
