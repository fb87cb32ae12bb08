"""分派给经办人: a department's leader gives its part of a dispatched case to one of its staff."""

from __future__ import annotations

import pytest
from django.db import IntegrityError
from django.urls import reverse
from django.utils.translation import gettext
from rest_framework.test import APIClient

from appeals import policy
from appeals.actions import REGISTRY, action_perform
from appeals.models import Assignment, AssignmentStatus, EventType, Notification, PetitionEvent
from appeals.services import (
    assignment_reply,
    assignment_report_in,
    petition_escalate,
    petition_whistle,
)
from appeals.services.assigning import assignment_assign_handler
from governance.errors import Conflict, DomainError, Forbidden
from governance.models import Role
from tests.factories import make_department, make_user


@pytest.fixture
def crew(department):
    """The lead department's leader and two handlers; another department with its own leader."""
    other = make_department("SJ", "区市场监督管理局")
    return {
        "leader": make_user("lead_boss", role=Role.DEPARTMENT_LEADER, department=department, first_name="王科长"),
        "zhang": make_user("zhang", role=Role.DEPARTMENT_HANDLER, department=department, first_name="张三"),
        "li": make_user("li", role=Role.DEPARTMENT_HANDLER, department=department, first_name="李四"),
        "other": other,
        "other_leader": make_user("other_boss", role=Role.DEPARTMENT_LEADER, department=other),
        "other_handler": make_user("other_hand", role=Role.DEPARTMENT_HANDLER, department=other),
    }


@pytest.fixture
def dispatched(submit, tree, grid_worker_a, community_secretary, street_command, department, crew):
    petition = submit()
    petition_escalate(petition_id=petition.pk, actor=grid_worker_a, note="上报")
    petition_escalate(petition_id=petition.pk, actor=community_secretary, note="上报")
    petition_whistle(
        petition_id=petition.pk,
        actor=street_command,
        lead_department_id=department.pk,
        assisting_department_ids=[crew["other"].pk],
    )
    petition.refresh_from_db()
    return petition


def _part(petition, department):
    return Assignment.objects.get(petition=petition, department=department, status__in=sorted(policy.OPEN_PARTS))


def test_the_leader_assigns_the_part_with_an_event_and_a_notice(dispatched, department, crew):
    leader, zhang = crew["leader"], crew["zhang"]
    part = assignment_assign_handler(petition_id=dispatched.pk, actor=leader, handler_id=zhang.pk, note="今天去现场")
    part.refresh_from_db()
    assert (part.handler, part.assigned_by, part.department) == (zhang, leader, department)
    assert part.assigned_at is not None
    event = PetitionEvent.objects.get(petition=dispatched, type=EventType.HANDLER_ASSIGNED)
    assert event.actor == leader
    assert event.from_status == event.to_status == "dispatched"
    assert event.extra == {"department_id": department.pk, "handler_id": zhang.pk, "previous_handler_id": None}
    assert "张三" in event.note and "今天去现场" in event.note
    notice = Notification.objects.get(kind="handler_assigned")
    assert notice.recipient == zhang and notice.petition_id == dispatched.pk
    assert dispatched.tracking_no in notice.message


def test_it_reassigns_and_records_who_held_it_before(dispatched, crew):
    leader, zhang, li = crew["leader"], crew["zhang"], crew["li"]
    assignment_assign_handler(petition_id=dispatched.pk, actor=leader, handler_id=zhang.pk)
    part = assignment_assign_handler(petition_id=dispatched.pk, actor=leader, handler_id=li.pk)
    assert part.handler == li
    last = PetitionEvent.objects.filter(type=EventType.HANDLER_ASSIGNED).order_by("-pk").first()
    assert last.extra["previous_handler_id"] == zhang.pk
    assert Notification.objects.filter(kind="handler_assigned", recipient=li).count() == 1


def test_it_refuses_assigning_to_the_one_who_holds_it(dispatched, crew):
    assignment_assign_handler(petition_id=dispatched.pk, actor=crew["leader"], handler_id=crew["zhang"].pk)
    with pytest.raises(Conflict) as refused:
        assignment_assign_handler(petition_id=dispatched.pk, actor=crew["leader"], handler_id=crew["zhang"].pk)
    assert refused.value.code == "already_assigned"


def test_a_handler_cannot_assign_with_the_policys_reason(dispatched, crew):
    zhang = crew["zhang"]
    reason = policy.decide(zhang, "assign_handler", dispatched).reason
    assert reason == gettext("Only the department's leader may assign its part to a handler.")
    with pytest.raises(Forbidden) as refused:
        assignment_assign_handler(petition_id=dispatched.pk, actor=zhang, handler_id=crew["li"].pk)
    assert refused.value.message == reason
    assert not PetitionEvent.objects.filter(type=EventType.HANDLER_ASSIGNED).exists()


def test_the_leader_cannot_assign_another_departments_part(dispatched, department, crew):
    other_leader = crew["other_leader"]
    reason = policy.decide(other_leader, "assign_handler", dispatched, department_id=department.pk).reason
    with pytest.raises(Forbidden) as refused:
        assignment_assign_handler(
            petition_id=dispatched.pk, actor=other_leader, handler_id=crew["zhang"].pk, department_id=department.pk
        )
    assert refused.value.message == reason
    assert _part(dispatched, department).handler is None


def test_it_refuses_a_handler_of_another_department(dispatched, department, crew):
    with pytest.raises(DomainError) as refused:
        assignment_assign_handler(petition_id=dispatched.pk, actor=crew["leader"], handler_id=crew["other_handler"].pk)
    assert refused.value.code == "validation_error"
    assert "handler" in refused.value.extra["fields"]
    assert _part(dispatched, department).handler is None
    assert not Notification.objects.filter(kind="handler_assigned").exists()


def test_a_cancelled_or_replied_part_cannot_be_assigned(dispatched, department, crew, street_command):
    other, other_leader = crew["other"], crew["other_leader"]
    assignment_report_in(petition_id=dispatched.pk, department_id=other.pk, actor=other_leader)
    assignment_reply(petition_id=dispatched.pk, department_id=other.pk, actor=other_leader, reply="已配合")
    decision = policy.decide(other_leader, "assign_handler", dispatched)
    assert (decision.allowed, decision.code) == (False, "already_replied")
    with pytest.raises(Conflict) as refused:
        assignment_assign_handler(petition_id=dispatched.pk, actor=other_leader, handler_id=crew["other_handler"].pk)
    assert refused.value.message == decision.reason
    # Re-dispatching cancels every part: the old lead part is gone from the leader's reach.
    Assignment.objects.filter(petition=dispatched, department=department).update(status=AssignmentStatus.CANCELLED)
    decision = policy.decide(crew["leader"], "assign_handler", dispatched)
    assert not decision.allowed
    with pytest.raises(Forbidden) as refused:
        assignment_assign_handler(petition_id=dispatched.pk, actor=crew["leader"], handler_id=crew["zhang"].pk)
    assert refused.value.message == decision.reason


def test_nothing_is_written_when_the_notice_fails(dispatched, department, crew, monkeypatch):
    """One transaction: the handler, the event and the notice commit together or not at all."""
    import appeals.services.assigning as assigning

    def broken(**kwargs):
        raise IntegrityError("outbox down")

    monkeypatch.setattr(assigning, "notification_create", broken)
    with pytest.raises(IntegrityError):
        assignment_assign_handler(petition_id=dispatched.pk, actor=crew["leader"], handler_id=crew["zhang"].pk)
    assert _part(dispatched, department).handler is None
    assert not PetitionEvent.objects.filter(type=EventType.HANDLER_ASSIGNED).exists()


def test_the_page_offers_the_action_exactly_to_the_leader(client, dispatched, crew):
    url = reverse("appeals:detail", args=[dispatched.tracking_no])
    for user, offered in ((crew["leader"], True), (crew["zhang"], False)):
        client.force_login(user)
        names = [form["name"] for form in client.get(url).context["action_forms"]]
        assert ("assign_handler" in names) is offered
    client.force_login(crew["leader"])
    response = client.post(
        reverse("appeals:act", args=[dispatched.tracking_no, "assign_handler"]),
        {"assign_handler-handler": crew["li"].pk, "assign_handler-note": ""},
    )
    assert response.status_code == 302
    assert Assignment.objects.filter(petition=dispatched, handler=crew["li"]).exists()


def test_the_api_assigns_by_user_name_and_refuses_a_handler(dispatched, department, crew):
    api = APIClient()
    url = reverse("api-petition-assign-handler", args=[dispatched.tracking_no])
    api.force_authenticate(crew["zhang"])
    refused = api.post(url, {"handler": "li"}, format="json")
    assert refused.status_code == 403
    api.force_authenticate(crew["leader"])
    unknown = api.post(url, {"handler": "nobody"}, format="json")
    assert unknown.status_code == 400 and "handler" in unknown.json()["extra"]["fields"]
    assert api.post(url, {"handler": "zhang"}, format="json").status_code == 200
    assert _part(dispatched, department).handler == crew["zhang"]


def test_the_registry_runs_the_service(dispatched, crew):
    assert REGISTRY["assign_handler"].slug == "assign-handler"
    action_perform("assign_handler", petition=dispatched, actor=crew["leader"], data={"handler": crew["zhang"]})
    assert Assignment.objects.filter(petition=dispatched, handler=crew["zhang"]).exists()
