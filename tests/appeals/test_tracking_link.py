"""The secret link in the resident's text messages (/petitions/t/<token>/) is the normal way in."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from appeals.models import Channel, Notification, Petition, new_access_token
from appeals.services import petition_accept, petition_handle, petition_reply


def test_every_petition_gets_its_own_long_random_token(submit):
    first, second = submit(), submit()
    assert len(first.access_token) >= 43 and first.access_token != second.access_token
    assert new_access_token() != new_access_token()


def test_the_link_opens_the_tracking_page_and_the_session_remembers_it(submit):
    petition = submit()
    client = Client()

    response = client.get(reverse("appeals:track_token", args=[petition.access_token]))
    status_page = client.get(reverse("appeals:track_status", args=[petition.tracking_no]))

    assert response.status_code == 302
    assert response["Location"] == reverse("appeals:track_status", args=[petition.tracking_no])
    assert status_page.status_code == 200
    assert status_page.context["petition"] == petition


def test_a_wrong_token_is_404_and_opens_nothing(submit):
    petition = submit()
    client = Client()

    wrong = client.get(reverse("appeals:track_token", args=[new_access_token()]))
    truncated = client.get(reverse("appeals:track_token", args=[petition.access_token[:-1]]))
    status_page = client.get(reverse("appeals:track_status", args=[petition.tracking_no]))

    assert wrong.status_code == 404 and truncated.status_code == 404
    assert status_page.status_code == 302  # back to the look-up form: nothing was remembered


def test_a_remembered_link_stops_working_for_another_petitions_number(submit):
    """The session keys the token by tracking number: it never opens a different petition."""
    mine, other = submit(), submit()
    client = Client()
    client.get(reverse("appeals:track_token", args=[mine.access_token]))
    session = client.session
    session["appeals_tracked"] = {other.tracking_no: mine.access_token}
    session.save()
    assert client.get(reverse("appeals:track_status", args=[other.tracking_no])).status_code == 302


def test_the_link_works_while_the_number_is_locked(submit, settings):
    settings.TRACKING_LOCK_AFTER = 1
    petition = submit()
    Client().post(reverse("appeals:track"), {"tracking_no": petition.tracking_no, "contact_phone": "13811112222"})
    client = Client()
    locked = client.post(
        reverse("appeals:track"), {"tracking_no": petition.tracking_no, "contact_phone": "13800138000"}
    )
    assert locked.status_code == 400
    assert client.get(reverse("appeals:track_token", args=[petition.access_token])).status_code == 302
    assert client.get(reverse("appeals:track_status", args=[petition.tracking_no])).status_code == 200


def test_the_received_text_carries_the_link(submit, settings):
    settings.SITE_URL = "https://gov.example.org"
    petition = submit()
    notice = Notification.objects.get(petition=petition, kind="received")
    assert notice.phone == "13800138000"
    assert f"https://gov.example.org/petitions/t/{petition.access_token}/" in notice.message
    assert petition.tracking_no in notice.message


def test_hotline_and_staff_entries_send_no_receipt(submit):
    for channel in (Channel.HOTLINE, Channel.STAFF):
        petition = submit(channel=channel)
        assert not Notification.objects.filter(petition=petition, kind="received").exists()


def test_the_resolved_text_carries_the_link(submit, grid_worker_a):
    petition = submit()
    petition_accept(petition_id=petition.pk, actor=grid_worker_a)
    petition_handle(petition_id=petition.pk, actor=grid_worker_a, note="现场处理")
    petition_reply(petition_id=petition.pk, actor=grid_worker_a, reply="已清运")
    notice = Notification.objects.get(petition=petition, kind="resolved")
    assert f"/petitions/t/{petition.access_token}/" in notice.message
    assert "已清运" in notice.message


def test_the_submitted_page_shows_the_link(client, resident_form):
    form = resident_form()
    response = client.post(reverse("appeals:new"), form, follow=True)
    petition = Petition.objects.get()
    assert f"http://testserver/petitions/t/{petition.access_token}/" in response.content.decode()
