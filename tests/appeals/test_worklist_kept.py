"""A tab's plain view by its kept statements (`governance.pagination.kept_list`): the rows and the
count the ORM gives for the same tab, order and moment, with the clock its only varying parameter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appeals import policy
from appeals.models import Petition
from appeals.services import petition_accept, petition_ask_extension
from appeals.views import SORTS, _kept_tab_rows, _tab_rows
from governance import pagination

# SQLite's datetimes need a converter: its lists are never kept (the ORM lists them, as before).
pytestmark = pytest.mark.postgres

TABS = ("todo", "pending", "done", "supervised", "sweep_failed", "all")


@pytest.fixture
def states(todo_states):
    return todo_states["late"]


@pytest.fixture
def roles(grid_worker_a, community_secretary, street_command, district_centre, department_handler, administrator):
    return (grid_worker_a, community_secretary, street_command, district_centre, department_handler, administrator)


def orm_rows(user, tab, sort, now):
    todo = {"now": now} if tab == "todo" else {}
    petitions = _tab_rows(user, tab, sort, **todo)
    return petitions.order_by().count(), [p.pk for p in petitions]


def kept_rows(user, tab, sort, now):
    rows = _kept_tab_rows(user, tab, sort, now)
    assert rows is not None, (user, tab, sort)
    return rows.count_up_to(10_001), [p.pk for p in rows[0:50]]


def test_the_kept_statements_list_what_the_orm_lists_for_every_role_tab_and_order(states, roles):
    now = timezone.now()
    for user in roles:
        for tab in TABS:
            for sort in SORTS:
                for _ in range(2):  # compiled, then kept
                    assert kept_rows(user, tab, sort, now) == orm_rows(user, tab, sort, now), (user, tab, sort)
    # Something lies in every role's 待办, so the comparison above compared rows, not two empty lists.
    assert all(orm_rows(user, "todo", "-created", now)[0] for user in roles)


def test_the_rows_are_models_with_their_handling_area(states, community_secretary):
    """Built without Model.__init__ (governance.loading): the same loaded values as the ORM's
    instances, the handling area joined, the rest deferred."""
    now = timezone.now()
    kept = _kept_tab_rows(community_secretary, "all", "-created", now)[0:50]
    orm = list(_tab_rows(community_secretary, "all", "-created"))
    loaded = lambda p: {k: v for k, v in p.__dict__.items() if k != "_state"}  # noqa: E731
    assert [loaded(p) for p in kept] == [loaded(p) for p in orm]
    first = kept[0]
    with CaptureQueriesContext(connection) as captured:
        assert first.handler_area.name and first.tracking_no and first.status
        assert first.handler_area == orm[0].handler_area and first.handler_area.path == orm[0].handler_area.path
    assert not captured.captured_queries
    assert first._state.db == orm[0]._state.db and not first._state.adding
    assert first.description == Petition.objects.get(pk=first.pk).description  # deferred: read when asked


def test_the_clock_is_read_at_every_request_not_kept(submit, grid_worker_a, community_secretary):
    """A petition falling due after the statements were kept enters the tier above's 待办 when it does."""
    petition = submit(title="将要超期")
    petition_accept(petition_id=petition.pk, actor=grid_worker_a)
    due = timezone.now() + timedelta(minutes=5)
    Petition.objects.filter(pk=petition.pk).update(deadline_at=due)
    before, after = due - timedelta(minutes=1), due + timedelta(minutes=1)
    assert petition.pk not in kept_rows(community_secretary, "todo", "-created", before)[1]
    kept_before = dict(pagination._kept_lists)
    assert petition.pk in kept_rows(community_secretary, "todo", "-created", after)[1]
    assert dict(pagination._kept_lists) == kept_before  # the same kept statements, a later clock


def test_a_new_extension_request_enters_the_kept_list(submit, grid_worker_a, community_secretary):
    petition = submit(title="申请延期")
    petition_accept(petition_id=petition.pk, actor=grid_worker_a)
    now = timezone.now()
    assert petition.pk not in kept_rows(community_secretary, "todo", "-created", now)[1]
    petition.refresh_from_db()
    petition_ask_extension(
        petition_id=petition.pk,
        actor=grid_worker_a,
        reason="需要协调",
        new_deadline=petition.deadline_at + timedelta(days=5),
    )
    assert policy.todo_pending_ids(community_secretary) == (petition.pk,)
    assert petition.pk in kept_rows(community_secretary, "todo", "-created", timezone.now())[1]
    # A community's 待办 reads the pending decisions in its own statement: the same kept statements.
    assert len(pagination._kept_lists) == 1


def test_a_statement_whose_other_parameters_move_with_the_clock_is_not_kept(submit):
    submit()
    now = timezone.now()

    def build(moment):  # a day window around the moment: more than the clock moves
        return Petition.objects.filter(created_at__gte=moment - timedelta(days=1)).order_by("-id")

    assert pagination.kept_list(("test", 1), build, now, count_limit=10) is None
    assert pagination.kept_list(("test", 2), lambda moment: Petition.objects.filter(pk__in=[]), now, count_limit=10)
    nothing = pagination.kept_list(("test", 2), lambda moment: Petition.objects.none(), now, count_limit=10)
    assert nothing.count(now) == 0 and nothing.page(now, 0, 20) == []


def test_the_page_shows_the_kept_rows_as_the_filtered_view_does(client, states, community_secretary):
    """The plain view (kept statements) and the same tab with an empty filter (the ORM) list the same petitions."""
    client.force_login(community_secretary)
    url = reverse("appeals:list")
    plain = client.get(url, {"tab": "todo"}).content.decode()
    filtered = client.get(url, {"tab": "todo", "q": ""}).content.decode()
    shown = [p.tracking_no for p in Petition.objects.all() if p.tracking_no in plain]
    assert shown and shown == [p.tracking_no for p in Petition.objects.all() if p.tracking_no in filtered]
    assert states.tracking_no in plain


def test_the_asked_page_comes_with_the_count_in_one_statement(client, states, community_secretary, settings):
    client.force_login(community_secretary)
    url = reverse("appeals:list")
    client.get(url, {"tab": "all"})
    with CaptureQueriesContext(connection) as captured:
        page = client.get(url, {"tab": "all", "per_page": "20"}).content.decode()
    listed = [q["sql"] for q in captured.captured_queries if "appeals_petition" in q["sql"]]
    assert len(listed) == 1 and "LATERAL" in listed[0], listed
    expected = orm_rows(community_secretary, "all", "-created", timezone.now())
    assert all(Petition.objects.get(pk=pk).tracking_no in page for pk in expected[1])
    # A page past the end shows the last page; an absurd number too, and nothing fails.
    for number in ("2", "99", "9" * 40, "9" * 5000, "0", "x", "²", "٣"):
        answer = client.get(url, {"tab": "all", "page": number})
        assert answer.status_code == 200, number
        assert client.get(url, {"tab": "all", "per_page": number}).status_code == 200, number
        assert Petition.objects.get(pk=expected[1][0]).tracking_no in answer.content.decode(), number


def test_count_and_page_together_match_them_apart(states, community_secretary):
    now = timezone.now()
    rows = _kept_tab_rows(community_secretary, "all", "-created", now)
    total, pks = rows.count_up_to(10_001), [p.pk for p in rows[0:50]]
    for offset, limit in ((0, 2), (2, 2), (total - 1, 5), (total, 5), (total + 10, 5)):
        counted, page = rows.kept.count_and_page(now, offset, limit)
        assert counted == total and [p.pk for p in page] == pks[offset : offset + limit], (offset, limit)


def test_the_apis_plain_list_answers_what_the_filtered_list_answers(states, roles):
    """The API's list without filters (kept statements) and with an empty filter (the ORM) agree."""
    from rest_framework.test import APIClient

    for user in roles:
        client = APIClient()
        client.force_login(user)
        for window in ({}, {"limit": 2}, {"limit": 2, "offset": 2}, {"offset": 50}):
            for _ in range(2):  # compiled, then kept
                plain = client.get("/api/v1/petitions/", window).json()
                filtered = client.get("/api/v1/petitions/", {**window, "channel": ""}).json()
                for link in ("next", "previous"):  # the filtered list's links carry its empty filter
                    if filtered[link]:
                        filtered[link] = filtered[link].replace("channel=&", "").replace("&channel=", "")
                assert plain == filtered, (user, window)
        assert client.get("/api/v1/petitions/").json()["count"] > 0, user
