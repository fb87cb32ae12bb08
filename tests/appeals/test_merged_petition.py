"""A merged petition's resident follows the master: its progress, its reply, its notification."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from appeals.models import EventType, Notification, Petition, PetitionEvent
from appeals.services import (
    petition_accept,
    petition_handle,
    petition_merge,
    petition_note_progress,
    petition_reply,
    petition_urge,
)

REPLY = "已联系环卫清运，垃圾已清理。"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def merged(submit, grid_worker_a):
    master = submit(title="小区门口垃圾堆积", contact_phone="13800138000")
    duplicate = submit(title="门口垃圾没人清", contact_phone="13900139000")
    petition_merge(petition_id=duplicate.pk, into_id=master.pk, actor=grid_worker_a)
    return master, duplicate


def resolve(master, grid_worker_a):
    petition_accept(petition_id=master.pk, actor=grid_worker_a)
    petition_handle(petition_id=master.pk, actor=grid_worker_a)
    petition_reply(petition_id=master.pk, actor=grid_worker_a, reply=REPLY)


def track_page(petition, phone):
    client = Client()
    client.post(reverse("appeals:track"), {"tracking_no": petition.tracking_no, "contact_phone": phone})
    return client.get(reverse("appeals:track_status", args=[petition.tracking_no]))


def track_api(petition, phone):
    return APIClient().get("/api/v1/track/", {"tracking_no": petition.tracking_no, "phone": phone})


def test_the_merged_petitions_resident_sees_the_masters_progress_and_reply(merged, grid_worker_a):
    master, duplicate = merged
    resolve(master, grid_worker_a)

    page = track_page(duplicate, "13900139000")
    body = page.content.decode()
    assert master.tracking_no in body and REPLY in body
    assert [e.type for e in page.context["view"].timeline][-2:] == [EventType.HANDLING, EventType.RESOLVED]

    api = track_api(duplicate, "13900139000").json()
    assert api["status"] == "merged"
    assert api["merged_into"] == {
        "tracking_no": master.tracking_no,
        "status": "resolved",
        "status_display": "Resolved",
        "resolved_at": api["merged_into"]["resolved_at"],
        "reply": REPLY,
    }
    assert [e["type"] for e in api["timeline"]] == [e.type for e in page.context["view"].timeline]


def test_the_merged_petitions_resident_is_told_when_the_master_is_resolved(merged, grid_worker_a):
    master, duplicate = merged

    resolve(master, grid_worker_a)

    told = {n.phone: n for n in Notification.objects.filter(kind="resolved")}
    assert set(told) == {"13800138000", "13900139000"}
    assert told["13900139000"].petition_id == duplicate.pk
    assert duplicate.tracking_no in told["13900139000"].message and REPLY in told["13900139000"].message


def test_one_resident_of_both_petitions_is_told_once(submit, grid_worker_a):
    master = submit(title="路灯不亮")
    duplicate = submit(title="路灯还是不亮")  # the same phone
    petition_merge(petition_id=duplicate.pk, into_id=master.pk, actor=grid_worker_a)

    resolve(master, grid_worker_a)

    assert Notification.objects.filter(kind="resolved").count() == 1


def test_the_master_records_what_it_absorbed(merged, client, grid_worker_a):
    master, duplicate = merged

    absorbed = PetitionEvent.objects.get(petition=master, type=EventType.ABSORBED)
    assert absorbed.extra == {"absorbed": duplicate.tracking_no}
    assert not PetitionEvent.objects.filter(petition=master, type=EventType.MERGED).exists()
    client.force_login(grid_worker_a)
    body = client.get(reverse("appeals:detail", args=[master.tracking_no])).content.decode()
    assert f'Absorbed a duplicate</strong> <span class="pp-detail">{duplicate.tracking_no}</span>' in body
    assert "Merged into another" not in body


def test_the_tracking_api_shows_exactly_the_events_the_page_shows(submit, grid_worker_a, community_secretary):
    petition = submit()
    petition_accept(petition_id=petition.pk, actor=grid_worker_a)
    petition_note_progress(petition_id=petition.pk, actor=grid_worker_a, note="内部：联系物业")
    petition_urge(petition_id=petition.pk, actor=community_secretary, note="内部：尽快")
    petition.refresh_from_db()
    assert Petition.objects.get(pk=petition.pk).events.filter(type=EventType.URGED).exists()

    page = track_page(petition, "13800138000")
    api = track_api(petition, "13800138000").json()

    page_types = [e.type for e in page.context["view"].timeline]
    assert [e["type"] for e in api["timeline"]] == page_types
    assert EventType.URGED not in page_types and EventType.PROGRESS not in page_types
