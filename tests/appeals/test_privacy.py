"""One masking rule for the page and the API (appeals.privacy), and a log line per unmasked view."""

import logging

from django.urls import reverse
from rest_framework.test import APIClient

from appeals.privacy import HANDLER, MASKED, OWN, contact_access, mask_name, mask_phone
from appeals.services import petition_escalate, petition_whistle


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
    assert mask_phone("13800138000") == "138****8000"
    assert mask_name("王小明") == "王**"
    assert mask_phone("") == mask_name("") == ""


def test_the_page_and_the_api_mask_alike_and_log_every_unmasked_view(
    submit, grid_worker_a, street_command, client, caplog
):
    petition = submit(contact_name="王小明")
    api = APIClient()
    api.force_authenticate(street_command)
    body = api.get(f"/api/v1/petitions/{petition.tracking_no}/").json()
    assert (body["contact_phone"], body["contact_name"]) == ("138****8000", "王**")
    client.force_login(street_command)
    page = client.get(reverse("appeals:detail", args=[petition.tracking_no])).content.decode()
    assert "138****8000" in page and "王**" in page and "13800138000" not in page and "王小明" not in page

    client.force_login(grid_worker_a)
    with caplog.at_level(logging.INFO, logger="appeals.pii"):
        page = client.get(reverse("appeals:detail", args=[petition.tracking_no])).content.decode()
    assert "13800138000" in page and "王小明" in page
    logged = [r for r in caplog.records if r.name == "appeals.pii"]
    assert {r.field for r in logged} == {"contact_phone", "contact_name"}
    assert all(r.user_id == grid_worker_a.pk and r.petition == petition.tracking_no for r in logged)
