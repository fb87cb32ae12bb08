"""django-axes locks staff log-in after a few failures: the form and the API's Basic auth alike."""

from __future__ import annotations

import base64

from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from governance.clientip import client_ip
from tests.factories import make_user

LOGIN = reverse("login")
PASSWORD = "pass-12345"  # tests.factories.make_user


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_the_right_password_logs_in(db):
    make_user("wang")
    response = Client().post(LOGIN, {"username": "wang", "password": PASSWORD})
    assert response.status_code == 302


def test_wrong_passwords_lock_the_form_even_for_the_right_password(db, settings):
    settings.AXES_FAILURE_LIMIT = 5
    make_user("wang")
    client = Client(REMOTE_ADDR="10.0.0.1")
    failures = [client.post(LOGIN, {"username": "wang", "password": f"guess-{n}"}) for n in range(4)]

    fifth = client.post(LOGIN, {"username": "wang", "password": "guess-5"})
    right = client.post(LOGIN, {"username": "wang", "password": PASSWORD})

    assert [r.status_code for r in failures] == [200] * 4
    assert fifth.status_code == 429
    assert right.status_code == 429
    assert "登录失败次数过多" in right.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_account_stays_locked_from_another_address(db, settings):
    settings.AXES_FAILURE_LIMIT = 3
    make_user("wang")
    for n in range(3):
        Client(REMOTE_ADDR=f"10.0.0.{n}").post(LOGIN, {"username": "wang", "password": "wrong"})
    other = Client(REMOTE_ADDR="192.0.2.50").post(LOGIN, {"username": "wang", "password": PASSWORD})
    assert other.status_code == 429


def test_basic_auth_is_locked_after_the_same_failures_with_a_json_429(db, settings, grid_worker_a):
    settings.AXES_FAILURE_LIMIT = 3
    api = APIClient(REMOTE_ADDR="10.0.0.9")
    wrong = [api.get("/api/v1/petitions/", HTTP_AUTHORIZATION=basic("grid_a", "wrong")) for _ in range(2)]

    third = api.get("/api/v1/petitions/", HTTP_AUTHORIZATION=basic("grid_a", "wrong"))
    right = api.get("/api/v1/petitions/", HTTP_AUTHORIZATION=basic("grid_a", PASSWORD))

    assert [r.status_code for r in wrong] == [403, 403]
    assert third.status_code == 429
    assert right.status_code == 429
    assert right.json()["code"] == "rate_limited"
    assert "登录失败次数过多" in right.json()["message"]


def test_basic_auth_with_the_right_password_works_before_any_lock(db, grid_worker_a):
    response = APIClient().get("/api/v1/petitions/", HTTP_AUTHORIZATION=basic("grid_a", PASSWORD))
    assert response.status_code == 200


def test_axes_counts_by_the_same_client_address_rule(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    from axes.helpers import get_client_ip_address

    assert get_client_ip_address(request) == client_ip(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert get_client_ip_address(request) == client_ip(request) == "203.0.113.9"
