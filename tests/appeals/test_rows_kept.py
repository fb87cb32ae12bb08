"""Rows drawn once and kept by what they are drawn from (the worklist's `row_html`, the API's
`list_rows`): a changed petition is drawn again, what moves with the clock is drawn every time, each
reader gets the masking the policy gives them, and every unmasked row is access-logged every time."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from appeals.models import Petition
from governance.models import AccessLog

LIST = "/api/v1/petitions/"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def api_rows(user) -> dict[str, dict]:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(LIST)
    assert response.status_code == 200, response.content
    return {row["tracking_no"]: row for row in response.json()["results"]}


def page_row(client, user, petition) -> str:
    client.force_login(user)
    page = client.get(reverse("appeals:list"), {"tab": "all"}).content.decode()
    start = page.index(f'value="{petition.tracking_no}"') if f'value="{petition.tracking_no}"' in page else None
    marker = f">{petition.tracking_no}</a>"
    assert marker in page
    end = page.index(marker)
    row_start = page.rindex("<tr", 0, start if start is not None else end)
    return page[row_start : page.index("</tr>", end)]


def test_the_worklist_draws_a_changed_petition_again(client, submit, grid_worker_a):
    petition = submit(title="楼道灯不亮")
    assert "楼道灯不亮" in page_row(client, grid_worker_a, petition)
    Petition.objects.filter(pk=petition.pk).update(title="楼道灯又坏了", supervised=True)
    row = page_row(client, grid_worker_a, petition)
    assert "楼道灯又坏了" in row and "楼道灯不亮" not in row
    assert "Supervised" in row


def test_the_worklist_row_turns_overdue_with_the_clock_alone(client, submit, grid_worker_a):
    petition = submit()
    Petition.objects.filter(pk=petition.pk).update(deadline_at=timezone.now() + timedelta(hours=1))
    row = page_row(client, grid_worker_a, petition)
    assert " overdue" not in row.split(">", 1)[0] and "left" in row
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        late = page_row(client, grid_worker_a, petition)
    assert " overdue" in late.split(">", 1)[0] and "Overdue by" in late


def test_the_worklist_row_follows_the_language(client, submit, grid_worker_a, settings):
    petition = submit()
    assert 'data-label="Title"' in page_row(client, grid_worker_a, petition)
    settings.LANGUAGE_CODE = "zh-hans"
    assert 'data-label="标题"' in page_row(client, grid_worker_a, petition)


def test_the_api_logs_an_unmasked_row_on_every_read_and_masks_by_reader(submit, grid_worker_a, street_command):
    petition = submit()
    for reads in (1, 2, 3):
        assert api_rows(grid_worker_a)[petition.tracking_no]["contact_phone"] == "13800138000"
        assert AccessLog.objects.filter(record=petition.tracking_no, user=grid_worker_a).count() == reads
    # The same row, read by a reader the policy masks it for: masked, and not logged.
    assert api_rows(street_command)[petition.tracking_no]["contact_phone"] == "138******00"
    assert not AccessLog.objects.filter(user=street_command).exists()
    assert api_rows(grid_worker_a)[petition.tracking_no]["contact_phone"] == "13800138000"


def test_the_api_row_follows_the_petition_and_the_clock(submit, grid_worker_a):
    petition = submit(title="井盖缺失")
    Petition.objects.filter(pk=petition.pk).update(deadline_at=timezone.now() + timedelta(hours=1))
    row = api_rows(grid_worker_a)[petition.tracking_no]
    assert (row["title"], row["overdue"]) == ("井盖缺失", False)
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        assert api_rows(grid_worker_a)[petition.tracking_no]["overdue"] is True
    Petition.objects.filter(pk=petition.pk).update(title="井盖又丢了", urge_count=2)
    row = api_rows(grid_worker_a)[petition.tracking_no]
    assert (row["title"], row["urge_count"], row["overdue"]) == ("井盖又丢了", 2, False)
