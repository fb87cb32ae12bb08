"""One masking rule for the page and the API (appeals.privacy), and an access-log row per unmasked view."""

from django.urls import reverse
from rest_framework.test import APIClient

from appeals.privacy import HANDLER, MASKED, OWN, contact_access, mask_name, mask_phone
from appeals.services import (
    petition_accept,
    petition_escalate,
    petition_handle,
    petition_note_progress,
    petition_whistle,
)
from governance.models import AccessLog


def test_the_handling_grid_and_its_community_see_contacts_others_do_not(
    submit, grid_worker_a, grid_worker_b, community_secretary, street_command, district_centre, resident
):
    petition = submit(contact_name="王小明", submitter=resident)
    assert contact_access(resident, petition) == OWN
    assert contact_access(grid_worker_a, petition) == HANDLER
    assert contact_access(community_secretary, petition) == HANDLER
    for outsider in (grid_worker_b, street_command, district_centre):
        assert contact_access(outsider, petition) == MASKED


def test_the_lead_department_sees_contacts_only_while_dispatched(
    submit, administrator, street_command, department, department_handler
):
    petition = submit()
    assert contact_access(department_handler, petition) == MASKED
    petition_escalate(petition_id=petition.pk, actor=administrator, note="上报")
    petition_escalate(petition_id=petition.pk, actor=administrator, note="上报")
    petition = petition_whistle(petition_id=petition.pk, actor=street_command, lead_department_id=department.pk)
    assert contact_access(department_handler, petition) == HANDLER


def test_masks_keep_only_what_identifies_nobody():
    assert mask_phone("13800138000") == "138******00"
    assert mask_name("王小明") == "王**"
    assert mask_phone("") == mask_name("") == ""


def test_the_page_and_the_api_mask_alike_and_log_every_unmasked_view(submit, grid_worker_a, street_command, client):
    petition = submit(contact_name="王小明", description="我是王小明，电话0532-88886666，身份证370202199001011234")
    api = APIClient()
    api.force_authenticate(street_command)
    body = api.get(f"/api/v1/petitions/{petition.tracking_no}/").json()
    assert (body["contact_phone"], body["contact_name"]) == ("138******00", "王**")
    assert body["description"] == "我是王**，电话053*******66，身份证370*************34"
    client.force_login(street_command)
    page = client.get(reverse("appeals:detail", args=[petition.tracking_no])).content.decode()
    assert "138******00" in page and "王**" in page and body["description"] in page
    for secret in ("13800138000", "王小明", "88886666", "370202199001011234"):
        assert secret not in page and secret not in str(body)
    assert not AccessLog.objects.exists()

    client.force_login(grid_worker_a)
    page = client.get(reverse("appeals:detail", args=[petition.tracking_no])).content.decode()
    assert "13800138000" in page and "王小明" in page and "370202199001011234" in page
    [entry] = AccessLog.objects.all()
    assert (entry.user, entry.record, entry.model, entry.object_id) == (
        grid_worker_a,
        petition.tracking_no,
        "appeals.petition",
        str(petition.pk),
    )
    assert entry.fields == "contact_phone,contact_name,description"


def test_notes_and_replies_are_masked_for_masked_roles_and_logged_for_the_handler(
    submit, grid_worker_a, street_command, client
):
    petition = submit()
    petition_accept(petition_id=petition.pk, actor=grid_worker_a)
    petition_handle(petition_id=petition.pk, actor=grid_worker_a)
    petition_note_progress(petition_id=petition.pk, actor=grid_worker_a, note="已电话联系 +86 139-1234-2468")
    api = APIClient()
    api.force_authenticate(street_command)
    body = api.get(f"/api/v1/petitions/{petition.tracking_no}/").json()
    assert "已电话联系 +86 139******68" in [event["note"] for event in body["timeline"]]
    client.force_login(street_command)
    assert "139-1234-2468" not in client.get(reverse("appeals:detail", args=[petition.tracking_no])).content.decode()

    api.force_authenticate(grid_worker_a)
    body = api.get(f"/api/v1/petitions/{petition.tracking_no}/").json()
    assert "已电话联系 +86 139-1234-2468" in [event["note"] for event in body["timeline"]]
    assert AccessLog.objects.get().fields == "contact_phone,timeline"
