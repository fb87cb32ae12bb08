"""What keeps the intake and list requests cheap: caches, one-statement insert, capped counts, lean rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models.signals import post_init, pre_init
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient, APIRequestFactory

from appeals import privacy, selectors, serializers
from appeals.models import (
    Assignment,
    AssignmentStatus,
    Category,
    CategoryKind,
    Channel,
    EventType,
    Petition,
    Status,
    Tier,
)
from appeals.services import intake, petition_escalate, petition_submit, petition_whistle
from governance import pagination
from governance.models import AccessLog, Role
from governance.prepared import statement_of
from governance.scoping import forget_scope
from governance.selectors import area_at_path, area_chain
from grids.models import Area
from tests.appeals.conftest import POINT_A
from tests.factories import make_user

LIST = "/api/v1/petitions/"


@pytest.fixture(autouse=True)
def _clear_throttle_counts():
    cache.clear()
    yield
    cache.clear()


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def body(category: Category) -> dict:
    return {"title": "路灯不亮", "description": "幸福路北口两盏路灯连续三晚不亮。", "category": category.code,
            "contact_phone": "13900139000", "lon": POINT_A[0], "lat": POINT_A[1]}  # fmt: skip


def real_queries(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]


# --- Intake -------------------------------------------------------------------------------------------


@pytest.mark.postgres  # elsewhere the petition and its event are two INSERTs
def test_it_files_a_staff_petition_in_two_queries_after_authentication(grid_worker_a, category):
    client = client_for(grid_worker_a)
    assert client.post(LIST, body(category), format="json").status_code == 201
    forget_scope(grid_worker_a)  # as on a fresh request: the caller's posts are read again
    with CaptureQueriesContext(connection) as captured:
        response = client.post(LIST, body(category), format="json")
    assert response.status_code == 201, response.content
    # The caller's posts, then the petition and its event in one statement; no category or area query.
    queries = real_queries(captured)
    assert len(queries) == 2, queries
    assert queries[-1].startswith("EXECUTE appeals_intake_"), queries  # prepared by the first POST
    assert statement_of(connection.alias, queries[-1]).startswith("WITH p AS (INSERT INTO")
    petition = Petition.objects.get(tracking_no=response.json()["tracking_no"])
    assert petition.grid.code == "DS0C0G0" and petition.street.code == "DS0"
    assert list(petition.events.values_list("type", "to_status")) == [(EventType.SUBMITTED, Status.SUBMITTED)]


def test_it_refuses_an_unknown_category_code_in_chinese(grid_worker_a, category):
    response = client_for(grid_worker_a).post(LIST, {**body(category), "category": "NOPE"}, format="json")
    assert response.status_code == 400
    assert response.json()["extra"]["fields"]["category"] == ["没有这个编码的类别。"]
    assert not Petition.objects.exists()


def test_it_sees_a_category_deactivated_in_this_process_at_once(grid_worker_a, category):
    client = client_for(grid_worker_a)
    assert client.post(LIST, body(category), format="json").status_code == 201
    category.is_active = False
    category.save(update_fields=["is_active"])
    response = client_for(grid_worker_a).post(LIST, body(category), format="json")
    assert response.status_code == 400
    assert "category" in response.json()["extra"]["fields"]


def test_it_reads_a_new_category_without_waiting_for_the_cache(db):
    assert selectors.categories_by_code().get("Z01") is None
    Category.objects.create(code="Z01", name="测试新类别", kind=CategoryKind.EVENT)
    assert selectors.categories_by_code()["Z01"].name == "测试新类别"


def test_it_reads_an_area_chain_once_and_forgets_it_when_an_area_changes(tree):
    path = Area.objects.get(code="DS0C0G0").path
    with CaptureQueriesContext(connection) as first:
        chain = area_chain(path)
    with CaptureQueriesContext(connection) as second:
        again = area_chain(path)
    assert len(first.captured_queries) == 1 and len(second.captured_queries) == 0
    assert {level: area.code for level, area in again.items()} == {a.level: a.code for a in chain.values()}
    grid = Area.objects.get(code="DS0C0G0")
    grid.name = "改名后的网格"
    grid.save(update_fields=["name"])
    assert area_at_path(path).name == "改名后的网格"


def test_it_retries_a_tracking_number_collision_inside_a_transaction(tree, category, monkeypatch):
    # Staff entry: no receipt text to write with it, no duplicate check (the mobile form has both).
    taken = petition_submit(channel=Channel.STAFF, title="甲", description="甲", contact_phone="13800138000",
                            category=category).petition  # fmt: skip
    numbers = iter([taken.tracking_no, "261201999999"])
    monkeypatch.setattr(intake, "_tracking_number", lambda at: next(numbers))
    second = petition_submit(channel=Channel.MOBILE, title="乙", description="乙", contact_phone="13800138000",
                             category=category).petition  # fmt: skip
    assert second.tracking_no == "261201999999"
    assert Petition.objects.count() == 2
    assert second.events.get().type == EventType.SUBMITTED


@pytest.mark.django_db(transaction=True)
def test_it_writes_the_petition_and_its_event_in_one_autocommit_statement(category, monkeypatch):
    # Staff entry: no receipt text to write with it, no duplicate check (the mobile form has both).
    taken = petition_submit(channel=Channel.STAFF, title="甲", description="甲", contact_phone="13800138000",
                            category=category).petition  # fmt: skip
    numbers = iter([taken.tracking_no, "261201888888"])
    monkeypatch.setattr(intake, "_tracking_number", lambda at: next(numbers))
    with CaptureQueriesContext(connection) as captured:
        second = petition_submit(channel=Channel.STAFF, title="乙", description="乙", contact_phone="13800138000",
                                 category=category).petition  # fmt: skip
    statements = [q["sql"].split(" ", 1)[0] for q in captured.captured_queries]
    if connection.vendor == "postgresql":  # no BEGIN/COMMIT: the collision, then the insert that won
        # Prepared by the first submission; the collision leaves it prepared for the retry.
        assert statements == ["EXECUTE", "EXECUTE"], statements
        assert statement_of(connection.alias, captured.captured_queries[0]["sql"]).startswith("WITH p AS (INSERT")
    assert second.tracking_no == "261201888888"
    assert Petition.objects.filter(tracking_no=taken.tracking_no).count() == 1
    assert second.events.get().type == EventType.SUBMITTED


# --- Lists -------------------------------------------------------------------------------------------


def test_it_counts_exactly_up_to_the_cap_and_says_when_it_estimates(submit, grid_worker_a, monkeypatch):
    for _ in range(3):
        submit()
    monkeypatch.setattr(pagination.CappedCountPagination, "count_cap", 3)
    exact = client_for(grid_worker_a).get(LIST).json()
    assert (exact["count"], exact["count_exact"]) == (3, True)
    submit()
    estimated = client_for(grid_worker_a).get(LIST).json()
    assert estimated["count_exact"] is False and estimated["count"] >= 4
    assert len(estimated["results"]) == 4


@pytest.mark.postgres
def test_a_capped_lists_estimate_is_asked_once_a_minute(submit, grid_worker_a, monkeypatch):
    for _ in range(4):
        submit()
    monkeypatch.setattr(pagination.CappedCountPagination, "count_cap", 3)

    def explains() -> int:
        with CaptureQueriesContext(connection) as captured:
            body = client_for(grid_worker_a).get(LIST).json()
        assert body["count_exact"] is False and body["count"] >= 4
        return sum(q["sql"].startswith("EXPLAIN") for q in captured.captured_queries)

    assert explains() == 1
    assert explains() == 0  # the estimate kept for the same list
    monkeypatch.setattr(pagination, "ESTIMATE_SECONDS", 0.0)  # a minute later
    assert explains() == 1


def test_it_renders_a_list_row_exactly_as_the_generic_serializer_would(submit, grid_worker_a, street_command):
    petition = submit()
    Petition.objects.filter(pk=petition.pk).update(supervised=True, urge_count=2)
    row = Petition.objects.select_related("category", "handler_area", "handler_department").get(pk=petition.pk)
    for user in (grid_worker_a, street_command):  # unmasked for the handling grid, masked for the street
        request = APIRequestFactory().get(LIST)
        request.user = user
        serializer = serializers.PetitionListSerializer(context={"request": request})
        generic = super(serializers.PetitionListSerializer, serializer).to_representation(row)
        assert serializer.to_representation(row) == generic


def test_it_renders_a_page_read_as_values_exactly_as_the_generic_serializer_would(
    submit, at_street, tree, grid_worker_a, community_secretary, street_command, department, department_handler,
    administrator, resident,
):  # fmt: skip
    petition_whistle(petition_id=at_street.pk, actor=street_command, lead_department_id=department.pk)
    submit(title="请回电13912342468")  # personal data in the title: logged when shown unmasked
    submit(submitter=resident, contact_phone="13700137000")
    submit(channel=Channel.STAFF, contact_phone="")
    overdue = submit()
    Petition.objects.filter(pk=overdue.pk).update(
        supervised=True, urge_count=2, deadline_at=timezone.now() - timedelta(hours=1)
    )
    submit(point=None)  # no micro-grid
    Petition.objects.filter(pk=submit().pk).update(category=None, repeat_count=1, escalated_on_deadline=True)
    microgrid_head = make_user("micro", role=Role.MICROGRID_HEAD, area=tree["DS0C0G0M0"])
    users = [grid_worker_a, microgrid_head, community_secretary, street_command, department_handler, administrator]
    shown = {}
    for user in users:
        client = APIClient()
        client.force_login(user)  # request.user is the session's lazy user, as in production
        last = AccessLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
        rows = client.get(LIST).json()["results"]
        assert rows, user
        logged = AccessLog.objects.filter(id__gt=last).order_by("id")
        request = APIRequestFactory().get(LIST)
        request.user = user
        pending = []
        serializer = serializers.PetitionListSerializer(context={"request": request, "access_log": pending})
        related = Petition.objects.select_related("category", "handler_area", "handler_department")
        expected = [
            super(serializers.PetitionListSerializer, serializer).to_representation(related.get(tracking_no=number))
            for number in [row["tracking_no"] for row in rows]
        ]
        assert [list(row.items()) for row in rows] == [list(row.items()) for row in expected], user
        assert [(e.model, e.object_id, e.record, e.fields) for e in logged] == [
            (r.model, r.object_id, r.record, ",".join(r.fields)) for r in pending
        ], user
        shown[user.username] = ({row["contact_phone"] for row in rows}, len(pending))
    # The page covers both answers of the policy: unmasked and logged, masked and not logged.
    assert shown["grid_a"] == ({"13800138000", "13700137000", "", "138******00"}, 4)  # the street handles one
    assert shown["micro"][0] >= {"13800138000"} and shown["handler"] == ({"13800138000"}, 1)
    assert shown["street0"] == ({"138******00", "137******00", ""}, 0)


@pytest.mark.postgres  # elsewhere a department's list is its scope's id list (`petitions_listed_for`)
def test_it_counts_a_departments_whole_list_on_its_parts(submit, grid_worker_a, community_secretary, street_command,
                                                         department, department_handler):  # fmt: skip
    for _ in range(3):
        petition = submit()
        petition_escalate(petition_id=petition.pk, actor=grid_worker_a, note="社区协调")
        petition_escalate(petition_id=petition.pk, actor=community_secretary, note="街道吹哨")
        petition_whistle(petition_id=petition.pk, actor=street_command, lead_department_id=department.pk)
    Assignment.objects.filter(petition_id=petition.pk).update(status=AssignmentStatus.CANCELLED)  # not listed
    submit()  # not dispatched
    client = APIClient()
    client.force_login(department_handler)
    for params, counted_on in [({}, "appeals_assignment"), ({"channel": "mobile"}, "appeals_petition")]:
        with CaptureQueriesContext(connection) as captured:
            body = client.get(LIST, params).json()
        assert body["count"] == len(body["results"]) == 2 and body["count_exact"]
        # The plain list's count comes in one statement with its page (kept statements), a filtered one apart.
        listed = ("appeals_petition", "appeals_assignment")
        [count] = [
            q["sql"]
            for q in captured.captured_queries
            if "SELECT COUNT(*)" in q["sql"] and any(t in q["sql"] for t in listed)
        ]
        assert f'FROM (SELECT "{counted_on}"."id"' in count, count


def test_it_asks_the_policy_about_a_values_row_without_guessing_what_it_did_not_read(submit):
    petition = Petition.objects.select_related("handler_area").get(pk=submit().pk)
    row = {name: getattr(petition, name) for name in privacy.CONTACT_ACCESS_COLUMNS}
    row["handler_area__path"] = petition.handler_area.path
    subject = privacy.RowMasking(None, None)._subject(tuple(row[name] for name in privacy.CONTACT_ACCESS_VALUES))
    assert subject.handler_area.path == petition.handler_area.path and subject.status == petition.status
    # A field the policy does not read today cannot be read from it: no silent stale answer.
    with pytest.raises(Petition.DoesNotExist):
        _ = subject.area_path
    # It is built without Model.__init__: nothing listens to a petition's or an area's creation.
    assert not any(signal.has_listeners(model) for signal in (pre_init, post_init) for model in (Petition, Area))


def test_its_display_labels_match_djangos(submit):
    petition = submit()
    for status in Status.values:
        for tier in [*Tier.values, None]:
            petition.status, petition.tier = status, tier
            assert petition.get_status_display() == petition._get_FIELD_display(Petition._meta.get_field("status"))
            assert petition.get_tier_display() == petition._get_FIELD_display(Petition._meta.get_field("tier"))


def test_it_redraws_the_category_filter_when_the_categories_change(category):
    from appeals.filters import WorklistFilter

    def drawn(data):
        return str(WorklistFilter(data, queryset=Petition.objects.none()).form["category"])

    first = drawn({"category": str(category.pk)})
    assert "测试暴露垃圾" in first and "selected" in first
    assert drawn({"category": str(category.pk)}) == first
    Category.objects.create(code="T0102", name="测试新增小类", kind=CategoryKind.EVENT, parent=category.parent)
    assert "测试新增小类" in drawn({})
