"""The in-app bell: one's own notifications, read/unread, the header count, extension notices."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appeals.context_processors import bell
from appeals.inbox import BELL_READ
from appeals.models import Notification
from appeals.services.handling import petition_accept, petition_ask_extension, petition_decide_extension
from appeals.services.notifications import notification_create
from governance.prepared import statement_of


def _inbox(user, kind="escalated", n=1, petition=None):
    return [
        notification_create(
            message=f"诉求{i}已上报给您：联系电话13912345678", kind=kind, recipient=user, petition=petition, nudge=False
        )
        for i in range(n)
    ]


def test_the_list_shows_only_my_notifications_masked(client, grid_worker_a, grid_worker_b):
    _inbox(grid_worker_a, n=2)
    _inbox(grid_worker_b, n=1)
    client.force_login(grid_worker_a)
    page = client.get(reverse("notifications:list")).content.decode()
    assert page.count("notice-text") == 2
    assert "13912345678" not in page and "139******78" in page
    assert "已上报给您" in page


def test_the_header_shows_the_unread_count_and_opening_marks_read(client, submit, grid_worker_a):
    petition = submit()
    # Routing already told the grid worker of the new petition: one unread before ours.
    assert Notification.objects.filter(recipient=grid_worker_a, kind="new_petition").count() == 1
    rows = _inbox(grid_worker_a, n=2, petition=petition)
    client.force_login(grid_worker_a)
    assert 'bell-count">3<' in client.get(reverse("notifications:badge")).content.decode()
    answer = client.post(reverse("notifications:open", args=[rows[0].pk]))
    assert answer.status_code == 302 and answer["Location"] == reverse("appeals:detail", args=[petition.tracking_no])
    rows[0].refresh_from_db()
    assert rows[0].read_at is not None
    assert 'bell-count">2<' in client.get(reverse("appeals:list")).content.decode()
    client.post(reverse("notifications:read_all"))
    assert Notification.objects.filter(recipient=grid_worker_a, read_at__isnull=True).count() == 0
    assert "bell-count" not in client.get(reverse("notifications:badge")).content.decode()


def test_nobody_opens_or_reads_someone_elses_notification(client, grid_worker_a, grid_worker_b):
    (row,) = _inbox(grid_worker_a)
    client.force_login(grid_worker_b)
    assert client.post(reverse("notifications:open", args=[row.pk])).status_code == 404
    client.post(reverse("notifications:read_all"))
    row.refresh_from_db()
    assert row.read_at is None


def test_the_unread_list_and_the_cap(client, grid_worker_a):
    _inbox(grid_worker_a, n=101)
    client.force_login(grid_worker_a)
    assert "99+" in client.get(reverse("notifications:badge")).content.decode()
    page = client.get(reverse("notifications:list") + "?show=unread").content.decode()
    assert page.count("notice-text") == 30


def test_opening_needs_a_post(client, grid_worker_a):
    (row,) = _inbox(grid_worker_a)
    client.force_login(grid_worker_a)
    assert client.get(reverse("notifications:open", args=[row.pk])).status_code == 405


def test_extension_asked_and_decided_reach_the_bell(submit, grid_worker_a, community_secretary):
    petition = submit()
    petition_accept(petition_id=petition.pk, actor=grid_worker_a)
    petition.refresh_from_db()
    later = petition.deadline_at + timedelta(days=3)
    request = petition_ask_extension(petition_id=petition.pk, actor=grid_worker_a, reason="等配件", new_deadline=later)
    asked = Notification.objects.filter(recipient=community_secretary, kind="extension_asked")
    assert asked.count() == 1 and petition.tracking_no in asked.get().message
    petition_decide_extension(request_id=request.pk, actor=community_secretary, grant=True)
    granted = Notification.objects.get(recipient=grid_worker_a, kind="extension_granted")
    assert petition.tracking_no in granted.message


@pytest.mark.postgres  # the session's joined read is PostgreSQL's
def test_a_page_reads_the_bell_count_with_its_session(client, grid_worker_a):
    _inbox(grid_worker_a, n=2)
    client.force_login(grid_worker_a)
    client.get(reverse("appeals:list"))
    with CaptureQueriesContext(connection) as captured:
        page = client.get(reverse("appeals:list")).content.decode()
    assert 'bell-count">2<' in page
    statements = [statement_of(connection.alias, q["sql"]) for q in captured.captured_queries]
    notification_reads = [sql for sql in statements if "appeals_notification" in sql]
    assert len(notification_reads) == 1 and "governance_usersession" in notification_reads[0]
    _inbox(grid_worker_a, n=1)
    assert 'bell-count">3<' in client.get(reverse("appeals:list")).content.decode()


def test_only_a_page_read_takes_the_sessions_count(rf, grid_worker_a):
    """A POST may have marked notifications read before it draws the page: it counts afresh."""
    _inbox(grid_worker_a, n=2)
    grid_worker_a._read_with_session = {BELL_READ: 7}  # as the session's statement read it earlier
    for method, expected in (("get", 7), ("head", 7), ("post", 2)):
        request = getattr(rf, method)("/petitions/")
        request.user = grid_worker_a
        assert bell(request)["bell_unread"]() == expected, method
