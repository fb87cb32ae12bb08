"""The access policy's rules that people ran into, its 待办 filter and its refusals."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from appeals import policy
from appeals.models import Petition, Status
from appeals.privacy import HANDLER, contact_access
from appeals.services import (
    assignment_report_in,
    petition_accept,
    petition_escalate,
    petition_supervise,
    petition_whistle,
)
from governance.errors import DomainError, Forbidden
from governance.models import Role
from tests.factories import make_user


@pytest.fixture
def microgrid_head(tree):
    return make_user("micro", role=Role.MICROGRID_HEAD, area=tree["DS0C0G0M0"])


def _todo(user) -> set[int]:
    from appeals.selectors import petitions_todo

    return set(petitions_todo(user).values_list("pk", flat=True))


def test_a_refused_move_lists_only_what_a_person_can_ask_for(client, submit, grid_worker_a):
    petition = submit()
    client.force_login(grid_worker_a)

    with pytest.raises(DomainError) as caught:
        policy.require(grid_worker_a, "close", petition)

    assert caught.value.http_status == 409
    allowed = caught.value.extra["allowed"]
    assert "accept" in allowed
    assert not {"auto_escalate", "remind", "route", "lead_reply"} & set(allowed)


def test_the_reason_is_chinese_by_default(submit, resident):
    petition = submit()
    with translation.override("zh-hans"):
        decision = policy.decide(resident, "accept", petition)
    assert not decision and decision.code == "forbidden"
    assert decision.reason == "只有承办单位可以执行此操作。"


def test_a_microgrid_head_acts_for_the_grid_on_their_microgrid(submit, microgrid_head, tree):
    petition = submit()  # located in DS0C0G0M0
    assert petition.microgrid_id == tree["DS0C0G0M0"].pk
    assert petition.pk in _todo(microgrid_head)
    assert contact_access(microgrid_head, petition) == HANDLER

    petition_accept(petition_id=petition.pk, actor=microgrid_head)

    assert Petition.objects.get(pk=petition.pk).status == Status.ACCEPTED


def test_a_microgrid_head_does_not_act_on_the_neighbouring_microgrid(submit, tree):
    neighbour = make_user("micro1", role=Role.MICROGRID_HEAD, area=tree["DS0C0G0M1"])
    petition = submit()
    assert policy.actions_for(neighbour, petition) == []
    assert _todo(neighbour) == set()
    with pytest.raises(Forbidden):
        petition_accept(petition_id=petition.pk, actor=neighbour)


def test_a_microgrid_head_lets_go_once_the_petition_went_up(submit, grid_worker_a, microgrid_head):
    petition = submit()
    petition_escalate(petition_id=petition.pk, actor=grid_worker_a, note="上报社区")
    petition.refresh_from_db()
    assert policy.actions_for(microgrid_head, petition) == []
    assert petition.pk not in _todo(microgrid_head)


@pytest.fixture
def dispatched_by_the_district(submit, grid_worker_a, community_secretary, street_command, district_centre, department):
    petition = submit()
    petition_escalate(petition_id=petition.pk, actor=grid_worker_a, note="上报")
    petition_escalate(petition_id=petition.pk, actor=community_secretary, note="上报")
    petition_escalate(petition_id=petition.pk, actor=street_command, note="上报")
    petition_whistle(petition_id=petition.pk, actor=district_centre, lead_department_id=department.pk)
    Petition.objects.filter(pk=petition.pk).update(escalated_on_deadline=True)
    return Petition.objects.select_related("handler_area").get(pk=petition.pk)


def test_the_district_urges_and_supervises_the_departments_it_dispatched_to(
    dispatched_by_the_district, district_centre, department_handler
):
    petition = dispatched_by_the_district
    assert petition.tier == 4
    assert {"urge", "supervise"} <= set(policy.actions_for(district_centre, petition))
    assert petition.pk in _todo(district_centre)

    petition_supervise(petition_id=petition.pk, actor=district_centre, note="限期办结")

    petition.refresh_from_db()
    assert petition.supervised
    assert "supervise" not in policy.actions_for(district_centre, petition)  # once is enough
    assert policy.decide(district_centre, "supervise", petition).code == "already_supervised"


def test_a_department_that_reported_in_is_not_offered_to_report_in_again(
    dispatched_by_the_district, department_handler, department
):
    petition = dispatched_by_the_district
    assert "report_in" in policy.actions_for(department_handler, petition)
    assignment_report_in(petition_id=petition.pk, department_id=department.pk, actor=department_handler)
    petition.refresh_from_db()

    assert "report_in" not in policy.actions_for(department_handler, petition)
    assert {"department_reply", "note_progress"} <= set(policy.actions_for(department_handler, petition))
    with pytest.raises(DomainError) as caught:
        assignment_report_in(petition_id=petition.pk, department_id=department.pk, actor=department_handler)
    assert caught.value.code == "already_reported"


def test_the_district_sees_overdue_and_supervised_cases_below_it_in_its_todo(
    submit, district_centre, street_command, grid_worker_a
):
    quiet, late, watched = (
        submit(),
        submit(title="路灯不亮", description="一周了"),
        submit(title="井盖", description="缺失"),
    )
    Petition.objects.filter(pk=late.pk).update(escalated_on_deadline=True)
    petition_supervise(petition_id=watched.pk, actor=street_command)

    todo = _todo(district_centre)

    assert {late.pk, watched.pk} <= todo and quiet.pk not in todo
    assert {quiet.pk, late.pk, watched.pk} <= _todo(grid_worker_a)  # the grid's own queue


def test_the_api_todo_filter_is_the_pages_todo_tab(client, submit, grid_worker_a, community_secretary):
    mine = submit()
    up = submit(title="路灯不亮", description="一周了")
    petition_escalate(petition_id=up.pk, actor=grid_worker_a, note="上报")
    for user, expected in ((grid_worker_a, {mine.tracking_no}), (community_secretary, {up.tracking_no})):
        api = APIClient()
        api.force_authenticate(user)
        body = api.get(reverse("api-petition-list"), {"todo": "true"}).json()
        assert {row["tracking_no"] for row in body["results"]} == expected
        client.force_login(user)
        page = client.get(reverse("appeals:list"), {"tab": "todo"}).context["page"]
        assert {p.tracking_no for p in page} == expected


@pytest.mark.parametrize(
    "persona", ["grid_worker_a", "microgrid_head", "community_secretary", "district_centre", "department_handler"]
)
def test_the_todo_tab_runs_a_constant_number_of_queries(request, client, submit, department, persona):
    user = request.getfixturevalue(persona)

    def late(**kw):
        petition = submit(**kw)
        if persona == "department_handler":
            for _ in range(2):
                petition_escalate(petition_id=petition.pk, actor=None, note="上报")  # the system
            petition_whistle(petition_id=petition.pk, actor=None, lead_department_id=department.pk)
        Petition.objects.filter(pk=petition.pk).update(escalated_on_deadline=True)  # on the upper tiers' 待办 too

    client.force_login(user)
    client.get(reverse("appeals:list"))  # warm the session
    late()
    with CaptureQueriesContext(connection) as few:
        first = client.get(reverse("appeals:list"), {"tab": "todo"})
    for i in range(5):
        late(title=f"问题{i}", description=f"描述{i}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("appeals:list"), {"tab": "todo"})
    assert len(first.context["page"]) == 1 and len(response.context["page"]) == 6
    assert len(many) == len(few) <= 8, [q["sql"] for q in many.captured_queries]
