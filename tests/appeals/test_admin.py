"""The admin: taxonomy editable by administrators only; petitions and their records read-only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from appeals.models import Notification, PetitionEvent
from governance.models import Role
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


def test_the_petition_admin_is_scoped_and_searchable(client, street_staff, other_street_staff, submit):
    petition = submit()
    url = reverse("admin:appeals_petition_changelist")

    client.force_login(street_staff)
    assert petition.tracking_no in client.get(url, {"q": petition.tracking_no}).content.decode()
    client.force_login(other_street_staff)
    assert petition.tracking_no not in client.get(url).content.decode()
    assert client.get(reverse("admin:appeals_petition_change", args=[petition.pk])).status_code == 302


def test_only_administrators_edit_categories(client, street_staff, administrator, category):
    url = reverse("admin:appeals_category_change", args=[category.pk])

    client.force_login(street_staff)
    assert client.get(url).status_code == 200
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
