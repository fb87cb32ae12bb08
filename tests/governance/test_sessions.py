"""Sessions that know their user: one query for session, user and posts; idle expiry; log out everywhere."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appeals.models import Category, CategoryKind
from governance import sessions
from governance.models import Role, StaffPost
from governance.prepared import statement_of
from governance.sessions import UserSession
from tests.appeals.conftest import POINT_A
from tests.factories import make_user

LIST = "/api/v1/petitions/"


@pytest.fixture
def sub_class(db, department):
    parent = Category.objects.create(code="T01", name="测试市容环境", kind=CategoryKind.EVENT)
    return Category.objects.create(
        code="T0101", name="测试暴露垃圾", kind=CategoryKind.EVENT, parent=parent, default_department=department
    )


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def row_of(client: Client) -> UserSession:
    return UserSession.objects.get(session_key=client.session.session_key)


def body(category: Category) -> dict:
    return {"title": "路灯不亮", "description": "幸福路北口两盏路灯连续三晚不亮。", "category": category.code,
            "contact_phone": "13900139000", "lon": POINT_A[0], "lat": POINT_A[1]}  # fmt: skip


# --- The session row knows its user ----------------------------------------------------------------


def test_a_log_in_writes_the_user_on_the_session_row(grid_worker_a):
    client = logged_in(grid_worker_a)
    assert row_of(client).user_id == grid_worker_a.pk


def test_an_anonymous_session_has_no_user(db):
    client = Client()
    client.get("/petitions/new/")
    for row in UserSession.objects.all():
        assert row.user_id is None


@pytest.mark.postgres  # the joined read is PostgreSQL's; elsewhere user and posts are two more queries
def test_session_user_and_posts_are_one_query_and_the_submit_one_more(grid_worker_a, sub_class):
    client = logged_in(grid_worker_a)
    assert client.post(LIST, body(sub_class), content_type="application/json").status_code == 201
    with CaptureQueriesContext(connection) as captured:
        response = client.post(LIST, body(sub_class), content_type="application/json")
    assert response.status_code == 201, response.content
    queries = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(queries) == 2, queries
    # The session's statement, prepared on this connection by an earlier request: only executed.
    assert queries[0].startswith("EXECUTE governance_session_"), queries
    session_sql = statement_of(connection.alias, queries[0])
    assert "governance_usersession" in session_sql and "auth_user" in session_sql and "staffpost" in session_sql
    # The petition and its event: one statement, also prepared by the earlier request.
    assert queries[1].startswith("EXECUTE appeals_intake_"), queries
    assert statement_of(connection.alias, queries[1]).startswith("WITH p AS (INSERT INTO")


@pytest.mark.postgres
def test_a_post_taken_away_counts_on_the_next_request(grid_worker_a, sub_class):
    client = logged_in(grid_worker_a)
    assert client.get("/petitions/").status_code == 200
    StaffPost.objects.filter(user=grid_worker_a).update(is_active=False)
    # No longer staff: the staff list sends them to their own petitions.
    assert client.get("/petitions/").status_code == 302


def test_a_deactivated_user_is_anonymous_on_the_next_request(grid_worker_a):
    client = logged_in(grid_worker_a)
    assert client.get("/accounts/").status_code == 200
    type(grid_worker_a).objects.filter(pk=grid_worker_a.pk).update(is_active=False)
    response = client.get("/accounts/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_changed_password_ends_the_old_session(grid_worker_a):
    client = logged_in(grid_worker_a)
    grid_worker_a.set_password("another-pass-987")
    grid_worker_a.save()
    response = client.get("/accounts/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_session_whose_data_names_another_user_is_not_given_the_row_user(grid_worker_a, grid_worker_b):
    client = logged_in(grid_worker_a)
    # The column says grid_b, the signed data says grid_a: the data wins (the column is only a join key).
    UserSession.objects.filter(session_key=client.session.session_key).update(user_id=grid_worker_b.pk)
    response = client.get("/accounts/")
    assert response.status_code == 200
    assert response.wsgi_request.user.pk == grid_worker_a.pk


# --- Idle expiry -------------------------------------------------------------------------------------


def test_a_staff_session_lives_the_staff_idle_time(grid_worker_a, settings):
    settings.SESSION_IDLE_SECONDS = 600
    client = logged_in(grid_worker_a)
    client.get("/accounts/")
    left = (row_of(client).expire_date - timezone.now()).total_seconds()
    assert 590 < left <= 600


def test_a_resident_session_lives_the_resident_idle_time(tree, settings):
    settings.SESSION_IDLE_SECONDS_RESIDENT = 3 * 24 * 3600
    client = logged_in(make_user("resident_x"))
    client.get("/accounts/")
    left = (row_of(client).expire_date - timezone.now()).total_seconds()
    assert 3 * 24 * 3600 - 10 < left <= 3 * 24 * 3600


def test_use_moves_the_expiry_forward_at_most_once_per_refresh(grid_worker_a, settings, monkeypatch):
    settings.SESSION_IDLE_SECONDS = 600
    settings.SESSION_IDLE_REFRESH_SECONDS = 60
    client = logged_in(grid_worker_a)
    client.get("/accounts/")
    first = row_of(client).expire_date
    with CaptureQueriesContext(connection) as captured:
        client.get("/accounts/")
    assert row_of(client).expire_date == first  # within the refresh interval: no write
    assert not [q for q in captured.captured_queries if q["sql"].startswith("UPDATE")]
    now = sessions.time.time()
    monkeypatch.setattr(sessions.time, "time", lambda: now + 61)
    client.get("/accounts/")
    assert row_of(client).expire_date > first


def test_an_idle_staff_session_ends_and_asks_for_the_log_in(grid_worker_a, settings):
    settings.SESSION_IDLE_SECONDS = 600
    client = logged_in(grid_worker_a)
    client.get("/accounts/")
    # Ten minutes without a request: the row's expiry is behind us.
    UserSession.objects.filter(pk=row_of(client).pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/accounts/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get("/petitions/").status_code == 302


# --- Log out everywhere ------------------------------------------------------------------------------


def test_the_account_page_counts_the_sessions_and_offers_log_out_everywhere(grid_worker_a):
    first, second = logged_in(grid_worker_a), logged_in(grid_worker_a)
    page = first.get("/accounts/")
    assert page.status_code == 200
    assert page.context["sessions"] == 2
    assert "/accounts/logout-everywhere/" in page.content.decode()
    assert second.get("/accounts/").status_code == 200


def test_log_out_everywhere_ends_every_session_of_the_user_and_no_one_elses(grid_worker_a, grid_worker_b):
    phone, desk = logged_in(grid_worker_a), logged_in(grid_worker_a)
    colleague = logged_in(grid_worker_b)
    response = desk.post("/accounts/logout-everywhere/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert not UserSession.objects.filter(user_id=grid_worker_a.pk).exists()
    for client in (phone, desk):
        page = client.get("/accounts/")
        assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
    assert colleague.get("/accounts/").status_code == 200
    assert SESSION_KEY in colleague.session


def test_log_out_everywhere_says_so_in_chinese(grid_worker_a):
    client = logged_in(grid_worker_a)
    response = client.post("/accounts/logout-everywhere/", follow=True)
    assert "已在所有设备上退出登录" in response.content.decode()


def test_log_out_everywhere_takes_a_post_only(grid_worker_a):
    client = logged_in(grid_worker_a)
    assert client.get("/accounts/logout-everywhere/").status_code == 405
    assert UserSession.objects.filter(user_id=grid_worker_a.pk).exists()


def test_the_account_pages_ask_anonymous_visitors_to_log_in(db):
    assert Client().get("/accounts/")["Location"].startswith("/accounts/login/")
    assert Client().post("/accounts/logout-everywhere/")["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", [Role.GRID_WORKER, Role.DISTRICT_CENTRE])
def test_staff_idle_minutes_show_on_the_account_page(tree, role, settings):
    settings.SESSION_IDLE_SECONDS = 1800
    user = make_user(f"u_{role}", role=role, area=tree["DS0C0G0"] if role == Role.GRID_WORKER else tree["D"])
    assert logged_in(user).get("/accounts/").context["idle_minutes"] == 30
