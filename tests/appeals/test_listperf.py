"""The lists' cost: a department's list from its parts' index, queries independent of the page size."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from appeals.models import Assignment, AssignmentRole, AssignmentStatus, Petition, Status
from appeals.selectors import list_ordered, petitions_listed_for, petitions_visible_to
from tests.factories import make_department

LIST = "/api/v1/petitions/"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def part(petition: Petition, department, status=AssignmentStatus.DISPATCHED) -> Assignment:
    return Assignment.objects.create(
        petition=petition, department=department, role=AssignmentRole.LEAD, status=status, dispatched_at=timezone.now()
    )


@pytest.fixture
def department_queue(submit, department):
    """Nine petitions with a live part for the department (two of them with the same created_at, so
    the id breaks the tie), one with a cancelled part, one for another department only."""
    base = timezone.now() - timedelta(days=30)
    petitions = [submit() for _ in range(11)]
    for i, petition in enumerate(petitions):
        Petition.objects.filter(pk=petition.pk).update(created_at=base + timedelta(hours=(i * 7) % 11))
    Petition.objects.filter(pk=petitions[3].pk).update(created_at=base + timedelta(hours=100))
    Petition.objects.filter(pk=petitions[4].pk).update(created_at=base + timedelta(hours=100))
    for petition in petitions[:9]:
        part(petition, department, AssignmentStatus.REPLIED if petition.pk % 2 else AssignmentStatus.DISPATCHED)
    part(petitions[9], department, AssignmentStatus.CANCELLED)
    part(petitions[10], make_department("WJ", "区卫生健康委员会"))
    Petition.objects.filter(pk__in=[p.pk for p in petitions[:9]]).update(status=Status.DISPATCHED)
    return petitions


@pytest.mark.postgres
def test_an_assignment_carries_its_petitions_created_at_whoever_writes_it(submit, department):
    petition = submit()
    assignment = part(petition, department)
    assignment.refresh_from_db()
    assert assignment.petition_created_at == petition.created_at
    # A bulk INSERT that names no such column (the bench's seed, a data fix) gets it too.
    other = submit()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO appeals_assignment (petition_id, department_id, role, status, dispatched_at, reply) "
            "VALUES (%s, %s, 'lead', 'dispatched', now(), '') RETURNING petition_created_at",
            [other.pk, department.pk],
        )
        assert cursor.fetchone()[0] == other.created_at
    # A save that writes every column (the instance never read the copy) keeps it.
    assignment.petition_created_at = None
    assignment.save()
    assignment.refresh_from_db()
    assert assignment.petition_created_at == petition.created_at
    # And it follows its petition.
    moved = petition.created_at - timedelta(days=3)
    Petition.objects.filter(pk=petition.pk).update(created_at=moved)
    assignment.refresh_from_db()
    assert assignment.petition_created_at == moved


@pytest.mark.postgres
@pytest.mark.parametrize(
    "ordering", [("-created_at", "-id"), ("created_at", "id"), ("deadline_at", "-created_at", "-id")]
)
def test_a_departments_list_has_the_same_rows_in_the_same_order(department_queue, department_handler, ordering):
    expected = list(petitions_visible_to(department_handler).order_by(*ordering).values_list("tracking_no", flat=True))
    assert len(expected) == 9
    listed = list_ordered(department_handler, petitions_listed_for(department_handler).order_by(*ordering))
    assert list(listed.values_list("tracking_no", flat=True)) == expected
    assert listed.count() == 9
    sql = str(listed.query)
    assert '"appeals_assignment"."petition_created_at"' in sql or "deadline_at" in ordering[0]


@pytest.mark.postgres
def test_a_departments_api_list_and_worklist_read_their_page_from_the_parts_index(
    department_queue, department_handler, client
):
    newest_first = list(
        petitions_visible_to(department_handler).order_by("-created_at", "-id").values_list("tracking_no", flat=True)
    )
    body = client_for(department_handler).get(LIST, {"limit": 4}).json()
    assert body["count"] == 9
    assert [row["tracking_no"] for row in body["results"]] == newest_first[:4]
    body = client_for(department_handler).get(LIST, {"limit": 4, "offset": 4}).json()
    assert [row["tracking_no"] for row in body["results"]] == newest_first[4:8]

    client.force_login(department_handler)
    response = client.get(reverse("appeals:list"), {"tab": "all"})
    assert [row["petition"].tracking_no for row in response.context["rows"]] == newest_first
    with connection.cursor() as cursor:
        sql, params = list_ordered(
            department_handler, petitions_listed_for(department_handler).order_by("-created_at", "-id")
        )[:4].query.sql_with_params()
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: ask for the plan a big one gets
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "appeals_assign_dept_recent" in plan, plan


@pytest.mark.parametrize("user_fixture", ["grid_worker_a", "department_handler"])
def test_the_api_lists_queries_do_not_grow_with_the_page_size(request, department_queue, user_fixture):
    user = request.getfixturevalue(user_fixture)
    client = client_for(user)
    client.get(LIST, {"limit": 2})  # warm the per-process caches
    with CaptureQueriesContext(connection) as small:
        assert len(client.get(LIST, {"limit": 2}).json()["results"]) == 2
    with CaptureQueriesContext(connection) as large:
        assert len(client.get(LIST, {"limit": 50}).json()["results"]) >= 9
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]


@pytest.mark.parametrize("tab", ["todo", "all"])
def test_a_departments_worklist_queries_do_not_grow_with_the_page_size(
    client, department_queue, department_handler, tab
):
    client.force_login(department_handler)
    client.get(reverse("appeals:list"), {"tab": tab})
    with CaptureQueriesContext(connection) as small:
        response = client.get(reverse("appeals:list"), {"tab": tab, "per_page": "20"})
    assert response.status_code == 200
    with CaptureQueriesContext(connection) as large:
        response = client.get(reverse("appeals:list"), {"tab": tab, "per_page": "50"})
    assert len(response.context["rows"]) >= 4
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]


def test_an_unfiltered_api_list_equals_the_filtered_one_with_empty_filters(department_queue, grid_worker_a):
    # The first page skips django-filter; empty filters through it give the same answer.
    plain = client_for(grid_worker_a).get(LIST).json()
    empty = client_for(grid_worker_a).get(LIST, {"q": "", "todo": "", "channel": ""}).json()
    assert plain == empty and plain["count"] == 11
