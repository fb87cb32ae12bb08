"""The admin: taxonomy editable by administrators only; petitions and their records read-only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from appeals.models import Notification, PetitionEvent
from appeals.services import petition_accept, petition_handle, petition_note_progress
from governance.models import AccessLog, Role
from tests.factories import make_user


@pytest.fixture
def street_staff(tree):
    return make_user("street_staff", role=Role.STREET_COMMAND, area=tree["DS0"], is_staff=True)


@pytest.fixture
def other_street_staff(tree):
    return make_user("other_staff", role=Role.STREET_COMMAND, area=tree["DS1"], is_staff=True)


@pytest.mark.parametrize(
    "name",
    [
        "appeals_category_changelist",
        "appeals_timelimit_changelist",
        "appeals_petition_changelist",
        "appeals_petitionevent_changelist",
        "appeals_notification_changelist",
        "appeals_category_add",
    ],
)
def test_the_admin_pages_render_for_an_administrator(client, administrator, submit, name):
    submit()
    client.force_login(administrator)

    assert client.get(reverse(f"admin:{name}")).status_code == 200


def test_a_petition_is_read_only_even_for_an_administrator(client, administrator, submit):
    petition = submit()
    client.force_login(administrator)
    url = reverse("admin:appeals_petition_change", args=[petition.pk])

    page = client.get(url)
    response = client.post(url, {"title": "changed"})

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert "13800138000" not in page.content.decode()
    assert response.status_code == 403
    petition.refresh_from_db()
    assert petition.title != "changed"
    assert client.get(reverse("admin:appeals_petition_add")).status_code == 403
    assert client.post(reverse("admin:appeals_petition_delete", args=[petition.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:appeals_petitionevent_add")).status_code == 403


def test_the_petition_admin_is_searchable_by_administrators_and_refuses_street_staff(
    client, administrator, street_staff, other_street_staff, submit
):
    petition = submit()
    url = reverse("admin:appeals_petition_changelist")

    client.force_login(administrator)
    assert petition.tracking_no in client.get(url, {"q": petition.tracking_no}).content.decode()
    for user in (street_staff, other_street_staff):
        client.force_login(user)
        for page in (url, reverse("admin:appeals_petition_change", args=[petition.pk])):
            response = client.get(page)
            assert response.status_code == 403
            assert petition.tracking_no not in response.content.decode()


def test_only_administrators_edit_categories(client, street_staff, administrator, category):
    url = reverse("admin:appeals_category_change", args=[category.pk])

    client.force_login(street_staff)
    assert client.get(url).status_code == 403
    assert client.post(url, {"code": category.code, "name": "改名", "kind": category.kind}).status_code == 403
    category.refresh_from_db()
    assert category.name != "改名"

    client.force_login(administrator)
    form = {
        "code": category.code,
        "name": "改名",
        "kind": category.kind,
        "parent": category.parent_id,
        "is_active": "on",
        "sort_order": 0,
        "limits-TOTAL_FORMS": 1,
        "limits-INITIAL_FORMS": 0,
        "limits-0-tier": 1,
        "limits-0-handling_mode": "",
        "limits-0-accept_amount": "2",
        "limits-0-accept_unit": "working_hours",
        "limits-0-handle_amount": "3",
        "limits-0-handle_unit": "working_days",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.context["adminform"].errors if response.context else response
    category.refresh_from_db()
    assert category.name == "改名"
    assert category.limits.count() == 1


def test_notifications_are_for_administrators_only(client, street_staff, administrator, submit):
    submit()
    url = reverse("admin:appeals_notification_changelist")

    client.force_login(street_staff)
    assert client.get(url).status_code == 403
    client.force_login(administrator)
    assert client.get(url).status_code == 200
    assert Notification.objects.exists() or PetitionEvent.objects.exists()


# --- Personal data in the admin ------------------------------------------------------------------------


def test_the_admin_masks_contacts_and_free_text_for_administrators_and_logs_nothing(client, administrator, submit):
    petition = submit(contact_name="王小明", description="我是王小明，电话139 1234 2468")
    client.force_login(administrator)
    listing = client.get(reverse("admin:appeals_petition_changelist")).content.decode()
    change = client.get(reverse("admin:appeals_petition_change", args=[petition.pk])).content.decode()
    for page in (listing, change):
        assert "王**" in page and "138******00" in page
        assert "王小明" not in page and "13800138000" not in page and "139 1234 2468" not in page
    assert "我是王**，电话139******68" in change
    assert not AccessLog.objects.exists()


def test_the_handling_grid_is_refused_the_admin_and_nothing_is_shown_or_logged(client, tree, submit):
    # Even with is_staff (accounts made before the admin became administrators-only): the grid reads
    # contacts on the petition page, where the unmasked view is logged.
    grid_staff = make_user("grid_staff", role=Role.GRID_WORKER, area=tree["DS0C0G0"], is_staff=True)
    petition = submit(contact_name="王小明", description="电话139 1234 2468")
    client.force_login(grid_staff)
    for url in (
        reverse("admin:appeals_petition_changelist"),
        reverse("admin:appeals_petition_change", args=[petition.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 403
        assert "王小明" not in response.content.decode() and "13800138000" not in response.content.decode()
    assert not AccessLog.objects.exists()


def test_event_notes_are_masked_in_the_admin(client, administrator, submit, grid_worker_a):
    petition = submit()
    petition_accept(petition_id=petition.pk, actor=grid_worker_a)
    petition_handle(petition_id=petition.pk, actor=grid_worker_a)
    petition_note_progress(petition_id=petition.pk, actor=grid_worker_a, note="已联系13912342468")
    event = PetitionEvent.objects.get(petition=petition, note__contains="已联系")
    client.force_login(administrator)
    for url in (
        reverse("admin:appeals_petition_change", args=[petition.pk]),
        reverse("admin:appeals_petitionevent_change", args=[event.pk]),
    ):
        page = client.get(url).content.decode()
        assert "已联系139******68" in page and "13912342468" not in page
