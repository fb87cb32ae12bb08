"""Each home tile links to a worklist that lists exactly the rows the tile counts, for every role."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from appeals import workbench
from appeals.models import Petition, Rating
from appeals.services import (
    petition_accept,
    petition_escalate,
    petition_handle,
    petition_rate,
    petition_reply,
    petition_supervise,
    petition_whistle,
)
from appeals.services.handling import petition_ask_extension
from governance.models import Role
from governance.workcalendar import CALENDAR_TZ
from tests.appeals.conftest import POINT_OTHER_STREET
from tests.factories import make_user

# A working Wednesday morning, Beijing time: "due today" has hours left before midnight.
MORNING = datetime(2026, 11, 18, 9, 30, tzinfo=CALENDAR_TZ)


@pytest.fixture
def microgrid_head(tree):
    return make_user("microgrid", role=Role.MICROGRID_HEAD, area=tree["DS0C0G0M0"])


@pytest.fixture
def department_leader(department):
    return make_user("deptlead", role=Role.DEPARTMENT_LEADER, department=department)


@pytest.fixture
def busy_area(submit, grid_worker_a, community_secretary, street_command, department):
    """Petitions in every state a tile counts, most of them in grid A."""
    submit(title="待签收")
    accepted = submit(title="已签收")
    petition_accept(petition_id=accepted.pk, actor=grid_worker_a)
    handling = submit(title="办理中")
    petition_accept(petition_id=handling.pk, actor=grid_worker_a)
    petition_handle(petition_id=handling.pk, actor=grid_worker_a)
    late = submit(title="超期")
    petition_accept(petition_id=late.pk, actor=grid_worker_a)
    Petition.objects.filter(pk=late.pk).update(deadline_at=MORNING - timedelta(hours=2))
    today = submit(title="今日到期")
    Petition.objects.filter(pk=today.pk).update(deadline_at=MORNING + timedelta(hours=5))
    tomorrow = submit(title="明日到期")
    Petition.objects.filter(pk=tomorrow.pk).update(deadline_at=MORNING + timedelta(days=1))
    watched = submit(title="督办")
    petition_supervise(petition_id=watched.pk, actor=community_secretary, note="盯紧")
    asked = submit(title="申请延期")
    petition_accept(petition_id=asked.pk, actor=grid_worker_a)
    Petition.objects.filter(pk=asked.pk).update(deadline_at=MORNING + timedelta(days=2))
    petition_ask_extension(
        petition_id=asked.pk, actor=grid_worker_a, reason="等配件", new_deadline=MORNING + timedelta(days=5)
    )
    disputed = submit(title="不满意")
    petition_accept(petition_id=disputed.pk, actor=grid_worker_a)
    petition_reply(petition_id=disputed.pk, actor=grid_worker_a, reply="已处理")
    petition_rate(petition_id=disputed.pk, rating=Rating.UNSATISFIED, contact_phone="13800138000")
    whistled = submit(title="吹哨")
    petition_escalate(petition_id=whistled.pk, actor=grid_worker_a, note="需要社区")
    petition_escalate(petition_id=whistled.pk, actor=community_secretary, note="需要街道")
    petition_whistle(petition_id=whistled.pk, actor=street_command, lead_department_id=department.pk)
    submit(POINT_OTHER_STREET, title="别的街道")
    submit(None, title="无位置待分派")


def listed(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    assert not response.context["form"].errors, (url, response.context["form"].errors)
    return response.context["page"].paginator.count


@pytest.mark.parametrize(
    "persona",
    [
        "grid_worker_a",
        "microgrid_head",
        "community_secretary",
        "street_command",
        "district_centre",
        "department_handler",
        "department_leader",
        "administrator",
    ],
)
def test_each_tile_lists_what_it_counts(request, client, persona):
    with time_machine.travel(MORNING, tick=False):
        request.getfixturevalue("busy_area")
        user = request.getfixturevalue(persona)
        client.force_login(user)
        tiles = workbench.todo_tiles(user)
        assert tiles
        for tile in tiles:
            assert listed(client, tile.url) == tile.count, (persona, tile.key, tile.url)


def test_the_extension_filter_lists_only_pending_requests_not_ones_own(
    request, client, grid_worker_a, community_secretary
):
    with time_machine.travel(MORNING, tick=False):
        request.getfixturevalue("busy_area")
        tiles = {tile.key: tile for tile in workbench.todo_tiles(community_secretary)}
        assert tiles["extensions"].count == 1
        assert tiles["due_today"].count >= 1
        client.force_login(community_secretary)
        response = client.get(tiles["extensions"].url)
        assert [row["petition"].title for row in response.context["rows"]] == ["申请延期"]
        assert "待决定的延期申请" in response.content.decode()
        # The one who asked has nothing to decide.
        client.force_login(grid_worker_a)
        assert listed(client, reverse("appeals:list") + "?tab=todo&pending=extension") == 0
        # A value it does not know is refused with a message, never silently ignored.
        response = client.get(reverse("appeals:list") + "?tab=todo&pending=nonsense")
        assert "pending" in response.context["form"].errors


def test_the_due_today_filter_stops_at_beijing_midnight(request, client, grid_worker_a):
    with time_machine.travel(MORNING, tick=False):
        request.getfixturevalue("busy_area")
        client.force_login(grid_worker_a)
        response = client.get(reverse("appeals:list") + "?tab=todo&due=today")
        titles = {row["petition"].title for row in response.context["rows"]}
        assert "今日到期" in titles and "明日到期" not in titles and "超期" not in titles
