"""The petition REST API: create, list, detail, masking, stats and the public tracking lookup."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from appeals.models import Channel, Petition, Rating, Status
from appeals.services import (
    assignment_report_in,
    petition_accept,
    petition_escalate,
    petition_handle,
    petition_note_progress,
    petition_rate,
    petition_reply,
    petition_whistle,
)
from governance.models import AccessLog
from tests.appeals.conftest import POINT_A, POINT_OTHER_STREET

LIST = "/api/v1/petitions/"


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def tracking_numbers(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["tracking_no"] for row in response.json()["results"]}


@pytest.fixture
def new(category) -> dict:
    """The body of a new petition in grid A."""
    return {
        "title": "路灯不亮",
        "description": "幸福路北口两盏路灯连续三晚不亮。",
        "category": category.code,
        "contact_phone": "13900139000",
        "lon": POINT_A[0],
        "lat": POINT_A[1],
    }


# --- Create ---------------------------------------------------------------------------------------


def test_it_creates_a_staff_petition_in_the_callers_area(grid_worker_a, new, tree):
    response = client_for(grid_worker_a).post(LIST, new, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    petition = Petition.objects.get(tracking_no=body["tracking_no"])
    assert petition.channel == Channel.STAFF
    assert petition.submitter is None
    assert petition.reported_area == tree["DS0C0G0"]
    assert petition.events.get().actor == grid_worker_a
    assert body["status"] == Status.SUBMITTED
    assert response["Location"] == f"/api/v1/petitions/{petition.tracking_no}/"
    assert petition.category.code == new["category"]


def test_it_returns_the_first_petition_for_a_repeated_idempotency_key(grid_worker_a, new):
    client = client_for(grid_worker_a)
    first = client.post(LIST, new, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    again = client.post(LIST, new, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    by_field = client.post(LIST, {**new, "idempotency_key": "retry-1"}, format="json")
    assert first.status_code == 201
    assert again.status_code == 200 and by_field.status_code == 200
    assert again.json()["tracking_no"] == first.json()["tracking_no"] == by_field.json()["tracking_no"]
    assert Petition.objects.count() == 1


def test_it_keeps_idempotency_keys_apart_between_users(grid_worker_a, community_secretary, new):
    first = client_for(grid_worker_a).post(LIST, new, format="json", HTTP_IDEMPOTENCY_KEY="same")
    other = client_for(community_secretary).post(LIST, new, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert first.status_code == other.status_code == 201
    assert first.json()["tracking_no"] != other.json()["tracking_no"]


def test_it_renders_serializer_validation_errors_in_the_domain_shape(grid_worker_a, new):
    response = client_for(grid_worker_a).post(LIST, {**new, "title": ""}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert set(body) == {"message", "code", "extra"}
    assert "title" in body["extra"]["fields"]


def test_it_renders_service_validation_errors_in_the_domain_shape(resident, new):
    response = client_for(resident).post(LIST, {**new, "contact_phone": "12345"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert "contact_phone" in body["extra"]["fields"]


def test_it_files_a_residents_petition_on_the_mobile_channel_as_theirs(resident, new, tree):
    response = client_for(resident).post(LIST, {**new, "channel": "staff", "reported_area": "DS1C1"}, format="json")
    assert response.status_code == 201, response.content
    petition = Petition.objects.get(tracking_no=response.json()["tracking_no"])
    assert petition.submitter == resident
    assert petition.channel == Channel.MOBILE
    assert petition.reported_area == tree["DS1C1"]
    assert petition.contact_phone == "13900139000"
    detail = client_for(resident).get(response["Location"]).json()
    assert detail["tracking_no"] == petition.tracking_no and "contact_phone" not in detail  # the tracking page's view


def test_it_rejects_a_reported_area_outside_the_staff_callers_scope(grid_worker_a, new):
    response = client_for(grid_worker_a).post(LIST, {**new, "reported_area": "DS1C1G1"}, format="json")
    assert response.status_code == 400
    assert "reported_area" in response.json()["extra"]["fields"]


def test_it_rejects_a_resident_naming_something_other_than_a_community(resident, new):
    response = client_for(resident).post(LIST, {**new, "reported_area": "DS0"}, format="json")
    assert response.status_code == 400
    assert "reported_area" in response.json()["extra"]["fields"]


def test_it_refuses_anonymous_callers(new):
    assert client_for().post(LIST, new, format="json").status_code in (401, 403)
    assert client_for().get(LIST).status_code in (401, 403)


# --- List -----------------------------------------------------------------------------------------------


def test_it_lists_only_the_grid_workers_own_grid(submit, grid_worker_a, grid_worker_b):
    in_a = submit()
    in_b = submit((120.015, 36.005))  # DS0C0G1
    assert tracking_numbers(client_for(grid_worker_a).get(LIST)) == {in_a.tracking_no}
    assert tracking_numbers(client_for(grid_worker_b).get(LIST)) == {in_b.tracking_no}


def test_it_lists_only_the_streets_own_petitions(submit, street_command, other_street_command):
    mine = submit()
    theirs = submit(POINT_OTHER_STREET)
    assert tracking_numbers(client_for(street_command).get(LIST)) == {mine.tracking_no}
    assert tracking_numbers(client_for(other_street_command).get(LIST)) == {theirs.tracking_no}


def test_it_lists_for_a_department_only_what_was_dispatched_to_it(
    submit, grid_worker_a, community_secretary, street_command, department, department_handler
):
    dispatched = submit()
    submit()
    petition_escalate(petition_id=dispatched.pk, actor=grid_worker_a, note="社区协调")
    petition_escalate(petition_id=dispatched.pk, actor=community_secretary, note="街道吹哨")
    petition_whistle(petition_id=dispatched.pk, actor=street_command, lead_department_id=department.pk)
    assert tracking_numbers(client_for(department_handler).get(LIST)) == {dispatched.tracking_no}


def test_it_lists_for_a_resident_only_their_own(submit, resident):
    own = submit(submitter=resident)
    submit()
    assert tracking_numbers(client_for(resident).get(LIST)) == {own.tracking_no}


def test_it_filters_the_list(submit, grid_worker_a, community_secretary, category):
    plain = submit(title="垃圾桶满了")
    accepted = submit(title="路面坑洼")
    petition_accept(petition_id=accepted.pk, actor=grid_worker_a)
    Petition.objects.filter(pk=accepted.pk).update(deadline_at=timezone.now() - timedelta(hours=1), supervised=True)
    repeat = submit(title="垃圾桶又满了")
    Petition.objects.update(repeat_of=None, repeat_count=0)  # routing links look-alikes; set it by hand
    Petition.objects.filter(pk=repeat.pk).update(repeat_of=plain)
    Petition.objects.filter(pk=plain.pk).update(repeat_count=1)
    client = client_for(community_secretary)

    def found(**params):
        return tracking_numbers(client.get(LIST, params))

    assert found(status=["accepted"]) == {accepted.tracking_no}
    assert found(status=["accepted", "assigned"]) == {plain.tracking_no, accepted.tracking_no, repeat.tracking_no}
    assert found(overdue="true") == found(supervised="true") == {accepted.tracking_no}
    assert found(q="垃圾桶") == {plain.tracking_no, repeat.tracking_no}
    assert found(repeat="has_repeats") == {plain.tracking_no}
    assert found(repeat="is_repeat") == {repeat.tracking_no}
    assert found(category=category.code, tier="1", channel="mobile", handler_area="DS0C0G0") == {
        plain.tracking_no,
        accepted.tracking_no,
        repeat.tracking_no,
    }
    assert found(category="9999") == set()
    assert found(created_after="2000-01-01T00:00:00Z", created_before="2001-01-01T00:00:00Z") == set()
    assert client.get(LIST, {"status": "nonsense"}).json()["code"] == "validation_error"


def test_it_orders_newest_first_and_by_deadline_on_request(submit, grid_worker_a):
    first, second = submit(), submit()
    response = client_for(grid_worker_a).get(LIST)
    assert [row["tracking_no"] for row in response.json()["results"]] == [second.tracking_no, first.tracking_no]
    Petition.objects.filter(pk=second.pk).update(deadline_at=first.deadline_at.replace(year=2000))
    response = client_for(grid_worker_a).get(LIST, {"ordering": "deadline_at"})
    assert [row["tracking_no"] for row in response.json()["results"]] == [second.tracking_no, first.tracking_no]


def test_it_lists_a_page_in_a_constant_number_of_queries(
    submit, grid_worker_a, django_assert_max_num_queries, django_assert_num_queries
):
    for _ in range(3):
        submit()
    client = client_for(grid_worker_a)
    # scope, count and page (one statement on PostgreSQL: the kept statements of the plain list) and
    # one access-log insert for the phones the handler sees: with 3 rows ...
    queries = 3 if connection.vendor == "postgresql" else 4
    with django_assert_num_queries(queries):
        assert len(client.get(LIST, {"limit": 20}).json()["results"]) == 3
    for _ in range(20):
        submit()
    # ... and the same with a full page of 20 (a new client: the scope is cached per request user).
    client = client_for(grid_worker_a)
    with django_assert_max_num_queries(queries):
        assert len(client.get(LIST, {"limit": 20}).json()["results"]) == 20


# --- Detail and masking ----------------------------------------------------------------------------------


def test_it_shows_the_detail_with_timeline_and_allowed_actions(submit, grid_worker_a):
    petition = submit()
    petition_accept(petition_id=petition.pk, actor=grid_worker_a)
    body = client_for(grid_worker_a).get(f"{LIST}{petition.tracking_no}/").json()
    assert [event["type"] for event in body["timeline"]] == ["submitted", "routed", "accepted"]
    assert body["timeline"][2]["actor"] == "grid_a"
    assert body["timeline"][2]["to_status"] == "accepted"
    assert body["timeline"][1]["actor"] == "系统"  # the stored code "system", shown in Chinese
    assert "handle" in body["actions"] and "accept" not in body["actions"]
    assert body["assignments"] == [] and body["photos"] == [] and body["extensions"] == []


def test_it_gives_the_same_404_out_of_scope_and_unknown(submit, grid_worker_b):
    petition = submit()
    client = client_for(grid_worker_b)
    out_of_scope = client.get(f"{LIST}{petition.tracking_no}/")
    unknown = client.get(f"{LIST}000000000000/")
    assert out_of_scope.status_code == unknown.status_code == 404
    assert out_of_scope.json() == unknown.json()


def test_it_shows_the_phone_in_full_to_the_handling_grid_and_logs_it(submit, grid_worker_a):
    petition = submit()
    body = client_for(grid_worker_a).get(f"{LIST}{petition.tracking_no}/").json()
    assert body["contact_phone"] == "13800138000"
    [entry] = AccessLog.objects.filter(record=petition.tracking_no)
    assert (entry.user, entry.fields, entry.reason) == (grid_worker_a, "contact_phone", "handler_view")
    assert entry.path == f"{LIST}{petition.tracking_no}/" and entry.ip == "127.0.0.1"


def test_a_handlers_list_page_is_logged_row_by_row_in_one_insert(submit, grid_worker_a, street_command):
    petitions = [submit(), submit(title="请回电13912342468")]
    rows = client_for(grid_worker_a).get(LIST).json()["results"]
    assert {row["contact_phone"] for row in rows} == {"13800138000"}
    logged = {entry.record: entry.fields for entry in AccessLog.objects.all()}
    assert logged == {petitions[0].tracking_no: "contact_phone", petitions[1].tracking_no: "contact_phone,title"}
    street_rows = client_for(street_command).get(LIST).json()["results"]
    assert "请回电139******68" in {row["title"] for row in street_rows}
    assert AccessLog.objects.count() == 2


def test_it_masks_the_phone_for_the_street_and_does_not_log(submit, street_command):
    petition = submit(contact_name="张三丰")
    detail = client_for(street_command).get(f"{LIST}{petition.tracking_no}/").json()
    row = client_for(street_command).get(LIST).json()["results"][0]
    assert detail["contact_phone"] == row["contact_phone"] == "138******00"
    assert detail["contact_name"] == "张**"
    assert not AccessLog.objects.exists()


def test_a_resident_lists_their_petitions_as_my_petitions_shows_them(submit, resident, grid_worker_a):
    mine = submit(submitter=resident, title="门口垃圾 请回电13912342468")
    submit()  # someone else's
    petition_escalate(petition_id=mine.pk, actor=grid_worker_a, note="上报")
    [row] = client_for(resident).get(LIST).json()["results"]
    assert set(row) == {"tracking_no", "title", "status", "status_display", "category", "created_at"}
    assert (row["tracking_no"], row["title"]) == (mine.tracking_no, "门口垃圾 请回电139******68")


def test_it_shows_a_resident_exactly_their_tracking_view(submit, resident, grid_worker_a, administrator):
    petition = submit(submitter=resident, description="门口垃圾，电话13912342468")
    petition_accept(petition_id=petition.pk, actor=grid_worker_a)
    petition_handle(petition_id=petition.pk, actor=grid_worker_a)
    petition_note_progress(petition_id=petition.pk, actor=grid_worker_a, note="内部：已联系环卫站王站长")
    body = client_for(resident).get(f"{LIST}{petition.tracking_no}/").json()
    tracked = APIClient().get("/api/v1/track/", {"tracking_no": petition.tracking_no, "phone": "13800138000"}).json()
    assert body == tracked
    assert [event["type"] for event in body["timeline"]] == ["submitted", "routed", "accepted", "handling"]
    assert "内部" not in str(body) and "grid_a" not in str(body) and "13912342468" not in str(body)
    assert body["description"] == "门口垃圾，电话139******68"


# --- Stats -------------------------------------------------------------------------------------------------


def test_it_computes_the_stats_of_the_callers_scope(
    submit, tree, category, grid_worker_a, street_command, django_assert_max_num_queries
):
    satisfied = submit()
    unsatisfied = submit()
    for petition in (satisfied, unsatisfied):
        petition_accept(petition_id=petition.pk, actor=grid_worker_a)
        petition_handle(petition_id=petition.pk, actor=grid_worker_a)
        petition_reply(petition_id=petition.pk, actor=grid_worker_a, reply="已处理")
    petition_rate(petition_id=satisfied.pk, rating=Rating.SATISFIED, contact_phone="13800138000")
    petition_rate(petition_id=unsatisfied.pk, rating=Rating.UNSATISFIED, contact_phone="13800138000")
    waiting = submit()  # assigned, no response yet
    Petition.objects.update(repeat_of=None, repeat_count=0)  # routing links look-alikes; set it by hand
    Petition.objects.filter(pk=waiting.pk).update(deadline_at=timezone.now() - timedelta(hours=1), repeat_of=satisfied)
    # Escalated on deadline once, closed since: not overdue.
    Petition.objects.filter(pk=satisfied.pk).update(escalated_on_deadline=True)
    Petition.objects.filter(pk=satisfied.pk).update(repeat_count=1)
    submit(route=False, reported_area=tree["DS0C0"])  # submitted, not routed: no response expected yet
    submit(POINT_OTHER_STREET)  # another street: not counted
    client = client_for(street_command)
    with django_assert_max_num_queries(5):
        body = client.get(f"{LIST}stats/").json()
    assert body["total"] == 4
    assert body["by_status"] == {"closed": 1, "resolved": 1, "assigned": 1, "submitted": 1}
    assert body["by_tier"] == {"1": 3, "": 1}
    assert body["overdue"] == 1
    assert body["response_rate"] == round(2 / 3, 4)  # 2 of the 3 routed were answered
    assert body["resolution_rate"] == 0.5  # closed + resolved of 4
    assert body["satisfaction_rate"] == 0.5
    assert body["with_repeats"] == 1 and body["repeats"] == 1
    assert body["top_categories"] == [{"code": category.code, "name": category.name, "count": 4}]
    empty = client.get(f"{LIST}stats/", {"created_before": "2000-01-01T00:00:00Z"}).json()
    assert empty["total"] == 0 and empty["response_rate"] is None


# --- Public tracking ------------------------------------------------------------------------------------------


def resolve(petition, grid_worker):
    petition_accept(petition_id=petition.pk, actor=grid_worker)
    petition_handle(petition_id=petition.pk, actor=grid_worker)
    petition_reply(petition_id=petition.pk, actor=grid_worker, reply="已联系环卫清运。")


def test_it_shows_a_public_view_with_tracking_number_and_phone(submit, grid_worker_a):
    petition = submit()
    resolve(petition, grid_worker_a)
    response = client_for().get("/api/v1/track/", {"tracking_no": petition.tracking_no, "phone": "13800138000"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "resolved" and body["reply"] == "已联系环卫清运。" and body["can_rate"]
    assert "grid_a" not in response.content.decode()
    assert [event["type"] for event in body["timeline"]][-1] == "resolved"


def test_it_gives_the_same_404_for_a_wrong_phone_and_an_unknown_number(submit):
    petition = submit()
    client = client_for()
    wrong_phone = client.get("/api/v1/track/", {"tracking_no": petition.tracking_no, "phone": "13900000000"})
    unknown = client.get("/api/v1/track/", {"tracking_no": "000000000000", "phone": "13800138000"})
    assert wrong_phone.status_code == unknown.status_code == 404
    assert wrong_phone.json() == unknown.json()


def test_it_rates_and_reopens_through_the_public_lookup(submit, grid_worker_a):
    petition = submit()
    resolve(petition, grid_worker_a)
    client = client_for()
    identity = {"tracking_no": petition.tracking_no, "phone": "13800138000"}
    assert client.post("/api/v1/track/rate/", {**identity, "rating": "unsatisfied"}, format="json").status_code == 200
    wrong = client.post(
        "/api/v1/track/reopen/", {**identity, "phone": "13900000000", "reason": "还是没清"}, format="json"
    )
    assert wrong.status_code == 404
    response = client.post("/api/v1/track/reopen/", {**identity, "reason": "还是没清"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "assigned"
    petition.refresh_from_db()
    assert petition.reopen_count == 1


def test_it_throttles_the_public_lookup(submit, settings):
    settings.RATE_TRACKING = "2/min"
    petition = submit()
    client = client_for()
    params = {"tracking_no": petition.tracking_no, "phone": "13800138000"}
    statuses = [client.get("/api/v1/track/", params).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_it_reaches_a_dispatched_petition_for_its_department_only(
    submit, grid_worker_a, community_secretary, street_command, department, department_handler
):
    petition = submit()
    petition_escalate(petition_id=petition.pk, actor=grid_worker_a, note="社区协调")
    petition_escalate(petition_id=petition.pk, actor=community_secretary, note="街道吹哨")
    petition_whistle(petition_id=petition.pk, actor=street_command, lead_department_id=department.pk)
    assignment_report_in(petition_id=petition.pk, department_id=department.pk, actor=department_handler)
    body = client_for(department_handler).get(f"{LIST}{petition.tracking_no}/").json()
    assert body["contact_phone"] == "13800138000"  # the lead department calls the resident
    assert body["assignments"][0]["department"]["code"] == department.code
    assert body["assignments"][0]["status"] == "reported_in"
