"""The department home: the leader's load per handler and bulk 分派; the handler's "assigned to me"."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from appeals import workbench
from appeals.models import Assignment, Notification
from appeals.services import petition_escalate, petition_whistle
from appeals.services.assigning import assignment_assign_handler
from governance.models import Role
from tests.factories import make_user


@pytest.fixture
def crew(department):
    return {
        "leader": make_user("lead_boss", role=Role.DEPARTMENT_LEADER, department=department),
        "zhang": make_user(
            "zhang", role=Role.DEPARTMENT_HANDLER, department=department, last_name="张", first_name="三"
        ),
        "li": make_user("li", role=Role.DEPARTMENT_HANDLER, department=department, last_name="李", first_name="四"),
    }


@pytest.fixture
def dispatch(submit, grid_worker_a, community_secretary, street_command, department):
    def _dispatch(**overrides):
        petition = submit(**overrides)
        petition_escalate(petition_id=petition.pk, actor=grid_worker_a, note="上报")
        petition_escalate(petition_id=petition.pk, actor=community_secretary, note="上报")
        petition_whistle(petition_id=petition.pk, actor=street_command, lead_department_id=department.pk)
        petition.refresh_from_db()
        return petition

    return _dispatch


def _rows(load):
    return {row["user"].username: (row["open"], row["overdue"], row["due_today"]) for row in load["rows"]}


def test_the_leader_sees_the_load_per_handler_and_the_unassigned(dispatch, crew):
    first, second, third = dispatch(), dispatch(title="第二件"), dispatch(title="第三件")
    assignment_assign_handler(petition_id=first.pk, actor=crew["leader"], handler_id=crew["zhang"].pk)
    assignment_assign_handler(petition_id=second.pk, actor=crew["leader"], handler_id=crew["zhang"].pk)
    load = workbench.department_load(crew["leader"])
    assert _rows(load)["zhang"] == (2, 0, 0)
    assert _rows(load)["li"] == (0, 0, 0)  # everyone of the department has a row
    assert load["unassigned"]["open"] == 1 and load["total"] == 3
    parts = workbench.department_open_parts(crew["leader"])
    assert parts[0].petition_id == third.pk and parts[0].handler_id is None  # the unassigned first
    with time_machine.travel(timezone.now() + timedelta(days=60), tick=False):
        load = workbench.department_load(crew["leader"])
        assert _rows(load)["zhang"] == (2, 2, 0) and load["unassigned"]["overdue"] == 1


def test_a_handler_has_no_load_table(dispatch, crew):
    dispatch()
    assert workbench.department_load(crew["zhang"])["rows"] == []


def test_the_handlers_tile_and_the_worklist_filter_list_his_parts(client, dispatch, crew):
    mine, other = dispatch(), dispatch(title="别人的")
    assignment_assign_handler(petition_id=mine.pk, actor=crew["leader"], handler_id=crew["zhang"].pk)
    assignment_assign_handler(petition_id=other.pk, actor=crew["leader"], handler_id=crew["li"].pk)
    tiles = workbench.todo_tiles(crew["zhang"])
    assert tiles[0].key == "mine" and tiles[0].count == 1 and "handler=me" in tiles[0].url
    client.force_login(crew["zhang"])
    listed = client.get(tiles[0].url)
    numbers = [row["petition"].tracking_no for row in listed.context["rows"]]
    assert numbers == [mine.tracking_no]
    home = client.get(reverse("home")).content.decode()
    assert 'id="assigned-to-me"' in home and mine.tracking_no in home and 'id="dept-load"' not in home


def test_the_leaders_home_shows_the_table_with_a_fixed_number_of_queries(client, dispatch, crew):
    client.force_login(crew["leader"])
    dispatch()
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as few:
        page = client.get(reverse("home")).content.decode()
    assert 'id="dept-load"' in page and 'id="dept-parts"' in page
    for title in ("第二件", "第三件", "第四件"):
        assignment_assign_handler(petition_id=dispatch(title=title).pk, actor=crew["leader"], handler_id=crew["li"].pk)
    with CaptureQueriesContext(connection) as more:
        client.get(reverse("home"))
    assert len(more) == len(few)


def test_bulk_assign_assigns_the_ticked_parts_and_notifies(client, dispatch, crew):
    first, second = dispatch(), dispatch(title="第二件")
    client.force_login(crew["leader"])
    response = client.post(
        reverse("workbench-assign"),
        {"petition": [first.tracking_no, second.tracking_no], "handler": str(crew["li"].pk)},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("home")
    assert Assignment.objects.filter(handler=crew["li"]).count() == 2
    assert Notification.objects.filter(recipient=crew["li"], kind="handler_assigned").count() == 2
    assert gettext("%(n)s case(s) assigned.") % {"n": 2} in response.content.decode()


def test_bulk_assign_refuses_each_case_with_its_reason(client, dispatch, crew, submit, tree):
    first = dispatch()
    outside = submit(title="不在本部门")
    client.force_login(crew["leader"])
    response = client.post(
        reverse("workbench-assign"),
        {"petition": [first.tracking_no, outside.tracking_no], "handler": str(crew["zhang"].pk)},
        follow=True,
    )
    texts = [str(message) for message in response.context["messages"]]
    assert gettext("Not found in your area.") in texts
    assert outside.tracking_no not in " ".join(texts)
    assert Assignment.objects.get(petition=first).handler == crew["zhang"]


def test_a_handler_cannot_bulk_assign(client, dispatch, crew):
    petition = dispatch()
    client.force_login(crew["zhang"])
    response = client.post(reverse("workbench-assign"), {"petition": petition.tracking_no, "handler": crew["li"].pk})
    assert response.status_code == 403
    assert Assignment.objects.get(petition=petition).handler is None
