"""Every transition through `POST /api/v1/petitions/{tracking_no}/{action}/`, and its refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from appeals.actions import BY_SLUG as ACTIONS
from appeals.models import (
    AssignmentStatus,
    CallbackResult,
    EventType,
    ExtensionRequest,
    ExtensionStatus,
    Petition,
    Status,
    Tier,
)
from appeals.services import (
    petition_accept,
    petition_escalate,
    petition_handle,
    petition_reply,
    petition_whistle,
)


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def act(user, petition, action, body=None):
    return client_for(user).post(f"/api/v1/petitions/{petition.tracking_no}/{action}/", body or {}, format="json")


def ok(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()


def resolved(submit, grid_worker, **overrides) -> Petition:
    petition = submit(**overrides)
    petition_accept(petition_id=petition.pk, actor=grid_worker)
    petition_handle(petition_id=petition.pk, actor=grid_worker)
    petition_reply(petition_id=petition.pk, actor=grid_worker, reply="已处理")
    petition.refresh_from_db()
    return petition


@pytest.fixture
def dispatched(submit, grid_worker_a, community_secretary, street_command, department):
    petition = submit()
    petition_escalate(petition_id=petition.pk, actor=grid_worker_a, note="社区协调")
    petition_escalate(petition_id=petition.pk, actor=community_secretary, note="街道吹哨")
    petition_whistle(petition_id=petition.pk, actor=street_command, lead_department_id=department.pk)
    petition.refresh_from_db()
    return petition


# --- Happy paths ----------------------------------------------------------------------------------------


def test_it_accepts_handles_notes_and_replies(submit, grid_worker_a):
    petition = submit()
    assert ok(act(grid_worker_a, petition, "accept"))["status"] == Status.ACCEPTED
    body = ok(act(grid_worker_a, petition, "handle", {"note": "已到场", "handling_mode": "immediate"}))
    assert body["status"] == Status.PROCESSING and body["timeline"][-1]["note"] == "已到场"
    body = ok(act(grid_worker_a, petition, "note-progress", {"note": "已联系物业"}))
    assert body["timeline"][-1]["type"] == EventType.PROGRESS
    body = ok(act(grid_worker_a, petition, "reply", {"reply": "垃圾已清运"}))
    assert body["status"] == Status.RESOLVED and body["reply"] == "垃圾已清运"
    # The handling grid may close or call back; only the resident who filed it rates.
    assert "close" in body["actions"] and "callback" in body["actions"] and "rate" not in body["actions"]


def test_it_escalates_whistles_and_lets_the_department_report_in_and_reply(
    submit, grid_worker_a, community_secretary, street_command, department, department_handler
):
    petition = submit()
    body = ok(act(grid_worker_a, petition, "escalate", {"note": "需要社区协调"}))
    assert body["tier"] == Tier.COMMUNITY and body["handler_area"]["code"] == "DS0C0"
    ok(act(community_secretary, petition, "escalate", {"note": "需要街道吹哨"}))
    body = ok(act(street_command, petition, "whistle", {"lead_department": department.code, "note": "请城管处理"}))
    assert body["status"] == Status.DISPATCHED
    assert body["handler_department"]["code"] == department.code
    body = ok(act(department_handler, petition, "report-in"))  # the caller's only department
    assert body["assignments"][0]["status"] == AssignmentStatus.REPORTED_IN
    body = ok(act(department_handler, petition, "department-reply", {"reply": "已处置"}))
    assert body["status"] == Status.RESOLVED


def test_it_asks_for_and_grants_an_extension(dispatched, department_handler, district_centre):
    new_deadline = dispatched.deadline_at + timedelta(days=3)
    body = ok(
        act(
            department_handler,
            dispatched,
            "ask-extension",
            {"new_deadline": new_deadline.isoformat(), "reason": "需要协调施工单位"},
        )
    )
    request_id = body["extensions"][0]["id"]
    assert body["extensions"][0]["status"] == ExtensionStatus.PENDING
    body = ok(act(district_centre, dispatched, "decide-extension", {"request": request_id, "grant": True}))
    assert body["extensions"][0]["status"] == ExtensionStatus.GRANTED
    dispatched.refresh_from_db()
    assert dispatched.deadline_at == new_deadline


def test_it_refuses_to_decide_an_extension_of_another_petition(submit, dispatched, department_handler, district_centre):
    request = ExtensionRequest.objects.create(
        petition=dispatched,
        requested_by=department_handler,
        requested_at=dispatched.created_at,
        reason="x",
        new_deadline=dispatched.deadline_at + timedelta(days=1),
    )
    other = submit()
    response = act(district_centre, other, "decide-extension", {"request": request.pk, "grant": True})
    assert response.status_code == 404


def test_it_urges_and_supervises_from_the_tier_above(submit, community_secretary):
    petition = submit()
    assert ok(act(community_secretary, petition, "urge", {"note": "请加快"}))["urge_count"] == 1
    assert ok(act(community_secretary, petition, "supervise"))["supervised"] is True


def test_it_returns_with_a_reason_and_places_again(submit, grid_worker_a, community_secretary):
    petition = submit()
    body = ok(act(grid_worker_a, petition, "return", {"reason": "不属于本网格"}))
    assert body["status"] == Status.RETURNED and body["tier"] == Tier.COMMUNITY
    body = ok(act(community_secretary, petition, "place", {"area": "DS0C0G1", "note": "转二网格"}))
    assert body["status"] == Status.ASSIGNED and body["handler_area"]["code"] == "DS0C0G1"


def test_it_lets_a_department_return_a_dispatched_petition(dispatched, department_handler):
    body = ok(act(department_handler, dispatched, "return", {"reason": "不属于本部门职责"}))
    assert body["status"] == Status.RETURNED
    assert all(a["status"] == AssignmentStatus.CANCELLED for a in body["assignments"])


def test_it_lets_the_submitter_rate_and_reopen(submit, grid_worker_a, resident):
    petition = resolved(submit, grid_worker_a, submitter=resident)
    body = ok(act(resident, petition, "rate", {"rating": "unsatisfied", "note": "没清干净"}))
    assert body["rating"] == "unsatisfied" and body["status"] == Status.RESOLVED
    body = ok(act(resident, petition, "reopen", {"reason": "还有垃圾"}))
    # The resident reads their tracking view (no internal counters): the reopen is an event there.
    assert body["status"] == Status.ASSIGNED and body["timeline"][-1]["type"] == "reopened"
    petition.refresh_from_db()
    assert petition.reopen_count == 1


def test_it_records_a_callback_and_closes(submit, grid_worker_a, community_secretary):
    petition = resolved(submit, grid_worker_a)
    body = ok(act(community_secretary, petition, "callback", {"result": CallbackResult.SATISFIED}))
    assert body["status"] == Status.CLOSED and body["rating"] == "satisfied"
    other = resolved(submit, grid_worker_a)
    assert ok(act(grid_worker_a, other, "close", {"note": "回访无人接听"}))["status"] == Status.CLOSED


def test_it_merges_into_another_petition(submit, grid_worker_a):
    master, duplicate = submit(), submit()
    body = ok(act(grid_worker_a, duplicate, "merge", {"into": master.tracking_no}))
    assert body["status"] == Status.MERGED
    master.refresh_from_db()
    assert master.repeat_count >= 1


def test_it_counts_a_merged_repeat_once(submit, grid_worker_a):
    master, duplicate = submit(), submit()  # same text and place: routing links the duplicate to the master
    duplicate.refresh_from_db()
    assert duplicate.repeat_of_id == master.pk
    ok(act(grid_worker_a, duplicate, "merge", {"into": master.tracking_no}))
    master.refresh_from_db()
    assert master.repeat_count == Petition.objects.filter(repeat_of=master).count() == 1


def test_it_exposes_one_endpoint_per_action():
    assert set(ACTIONS) == {
        "accept",
        "handle",
        "note-progress",
        "reply",
        "escalate",
        "return",
        "place",
        "transfer",
        "whistle",
        "report-in",
        "department-reply",
        "assign-handler",
        "ask-extension",
        "decide-extension",
        "urge",
        "supervise",
        "rate",
        "reopen",
        "callback",
        "close",
        "merge",
    }


# --- Refusals ----------------------------------------------------------------------------------------------


def test_it_refuses_the_wrong_role_with_403_and_a_message(submit, grid_worker_a, resident):
    petition = submit(submitter=resident)
    response = act(grid_worker_a, petition, "urge")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden" and response.json()["message"]
    response = act(resident, petition, "accept")
    assert response.status_code == 403 and response.json()["message"]


def test_it_refuses_report_in_by_someone_without_a_department(dispatched, street_command):
    response = act(street_command, dispatched, "report-in")
    assert response.status_code == 403


def test_it_answers_an_invalid_move_with_409_and_the_allowed_actions(submit, grid_worker_a):
    petition = submit()
    response = act(grid_worker_a, petition, "handle")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "invalid_transition"
    assert "accept" in body["extra"]["allowed"]


def test_it_requires_a_reason_to_return(submit, grid_worker_a):
    petition = submit()
    response = act(grid_worker_a, petition, "return", {})
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "reason" in response.json()["extra"]["fields"]
    assert act(grid_worker_a, petition, "return", {"reason": "   "}).status_code == 400


def test_it_gives_404_for_an_action_on_a_petition_out_of_scope(submit, grid_worker_b):
    petition = submit()
    out_of_scope = act(grid_worker_b, petition, "accept")
    unknown = client_for(grid_worker_b).post("/api/v1/petitions/000000000000/accept/", {}, format="json")
    assert out_of_scope.status_code == unknown.status_code == 404
    assert out_of_scope.json() == unknown.json()


def test_it_refuses_merging_into_a_petition_out_of_scope(submit, grid_worker_a):
    petition = submit()
    other = submit((120.015, 36.005))  # grid B
    assert act(grid_worker_a, petition, "merge", {"into": other.tracking_no}).status_code == 404


def test_it_refuses_anonymous_actions(submit):
    petition = submit()
    assert act(None, petition, "accept").status_code in (401, 403)
    petition.refresh_from_db()
    assert petition.status == Status.ASSIGNED


def test_a_tier_above_transfers_a_case_in_hand_to_another_grid(submit, tree, grid_worker_a, community_secretary):
    petition = submit()
    body = ok(act(community_secretary, petition, "transfer", {"area": "DS0C0G1", "note": "一键转办"}))
    assert body["status"] == "assigned"
    petition.refresh_from_db()
    assert petition.handler_area == tree["DS0C0G1"] and petition.grid == tree["DS0C0G1"]
    assert petition.events.filter(type=EventType.REROUTED, actor=community_secretary).exists()
    # The grid it left cannot transfer it (not above), nor can it be sent where it already is.
    refused = act(grid_worker_a, petition, "transfer", {"area": "DS0C0G0"})
    assert refused.status_code in (403, 404)
    again = act(community_secretary, petition, "transfer", {"area": "DS0C0G1"})
    assert again.status_code == 400 and again.json()["code"] == "validation_error"
    assert "area" in again.json()["extra"]["fields"]
