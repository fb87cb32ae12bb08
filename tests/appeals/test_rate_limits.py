"""Rate limits on intake: the public form per address, Open311 POST per api_key, the API's create
per user — each a 429 with a Chinese message, none of them a 500 when the cache is down."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from appeals.models import Petition
from governance.errors import RateLimited
from governance.limits import rate_hit, rate_limit
from governance.models import ApiClient
from tests.appeals.conftest import POINT_A

DOWN = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}


@pytest.fixture
def form(resident_form):
    return resident_form


def test_the_public_form_answers_429_in_chinese_and_writes_nothing(form, settings):
    settings.RATE_PETITION_FORM = "2/min,50/h"
    settings.PETITION_DUPLICATE_WINDOW_SECONDS = 0  # the same form, filed again and again
    client = Client(REMOTE_ADDR="10.0.0.1")
    accepted = [client.post(reverse("appeals:new"), form()).status_code for _ in range(2)]

    refused = client.post(reverse("appeals:new"), form())

    assert accepted == [302, 302]
    assert refused.status_code == 429
    assert "操作过于频繁" in refused.content.decode()
    assert refused["Retry-After"] == "60"
    assert Petition.objects.count() == 2
    # The limit is per address.
    assert Client(REMOTE_ADDR="10.0.0.2").post(reverse("appeals:new"), form()).status_code == 302


def test_the_public_form_ignores_a_forged_x_forwarded_for(form, settings):
    settings.RATE_PETITION_FORM = "1/min"
    client = Client(REMOTE_ADDR="10.0.0.1")
    client.post(reverse("appeals:new"), form(), HTTP_X_FORWARDED_FOR="203.0.113.1")
    again = client.post(reverse("appeals:new"), form(), HTTP_X_FORWARDED_FOR="203.0.113.2")
    assert again.status_code == 429


def test_open311_posts_are_limited_per_api_key(category, settings):
    settings.RATE_OPEN311_POST = "2/min"
    _client, key = ApiClient.create_with_key(name="市民通")
    _other, other_key = ApiClient.create_with_key(name="随手拍")
    url = "/open311/v2/requests.json"

    def body(api_key: str) -> dict[str, str]:
        return {
            "api_key": api_key,
            "service_code": category.code,
            "lat": str(POINT_A[1]),
            "long": str(POINT_A[0]),
            "description": "路灯不亮",
        }

    statuses = [Client().post(url, body(key)).status_code for _ in range(2)]
    refused = Client(REMOTE_ADDR="10.9.9.9").post(url, body(key))

    assert statuses == [201, 201]
    assert refused.status_code == 429
    assert "操作过于频繁" in refused.json()[0]["description"]
    assert refused.json()[0]["code"] == 429
    assert Client().post(url, body(other_key)).status_code == 201


def test_the_api_create_is_limited_per_user_with_a_json_429(grid_worker_a, category, settings):
    settings.RATE_API_CREATE = "2/min"
    api = APIClient()
    api.force_authenticate(grid_worker_a)
    new = {
        "title": "路灯不亮",
        "description": "两盏路灯不亮。",
        "category": category.code,
        "contact_phone": "13900139000",
    }
    statuses = [api.post("/api/v1/petitions/", new, format="json").status_code for _ in range(2)]
    refused = api.post("/api/v1/petitions/", new, format="json")
    listing = api.get("/api/v1/petitions/")

    assert statuses == [201, 201]
    assert refused.status_code == 429
    assert refused.json() == {
        "message": "操作过于频繁，请 1 分钟后再试。",
        "code": "rate_limited",
        "extra": {"retry_after": 60},
    }
    assert refused["Retry-After"] == "60"
    assert listing.status_code == 200  # reading is not limited


def test_each_rate_of_a_list_counts(db, settings):
    rates = "2/min,3/h"
    assert [rate_hit("t", "a", rates, fail_open=False) for _ in range(4)] == [None, None, 60, 60]
    settings.RATE_X = "1/min"
    rate_limit("x", "b", setting="RATE_X", fail_open=False)
    with pytest.raises(RateLimited):
        rate_limit("x", "b", setting="RATE_X", fail_open=False)


@pytest.mark.redis
def test_with_the_cache_down_intake_limits_fail_open(category, settings):
    _client, key = ApiClient.create_with_key(name="市民通")
    settings.CACHES = DOWN
    settings.RATE_X = "1/min"
    for _ in range(3):
        rate_limit("x", "b", setting="RATE_X", fail_open=True)
    response = Client().post(
        "/open311/v2/requests.json",
        {"api_key": key, "service_code": category.code, "lat": str(POINT_A[1]), "long": str(POINT_A[0])},
    )
    assert response.status_code == 201
