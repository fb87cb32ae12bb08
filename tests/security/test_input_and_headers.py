"""Cross-cutting cases of issue 8 at the HTTP edge: NUL bytes never a 500; headers on personal data.

The controls: `governance.middleware.InputGuardMiddleware` (NUL and control characters refused at
the edge), django-csp and `PrivateResponseMiddleware` (CSP, Cache-Control, Referrer-Policy).
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from governance.models import ApiClient


@pytest.fixture
def api_key(db) -> str:
    _client, key = ApiClient.create_with_key(name="城市APP")
    return key


# (method, url, data, content type, who): the 12 kinds of request the probe answered with 500.
NUL_CASES = {
    "open311 request id": ("get", "/open311/v2/requests/%00.json", None, None, "anonymous"),
    "open311 service code": ("get", "/open311/v2/services/%00.json", None, None, "anonymous"),
    "open311 query": ("get", "/open311/v2/requests.json?service_code=%00", None, None, "anonymous"),
    "track status path": ("get", "/petitions/track/%00/", None, None, "anonymous"),
    "track form": ("post", "/petitions/track/", {"tracking_no": "1\x00", "contact_phone": "1"}, None, "anonymous"),
    "api track query": ("get", "/api/v1/track/?tracking_no=%00&phone=1", None, None, "anonymous"),
    "api petition path": ("get", "/api/v1/petitions/%00/", None, None, "staff"),
    "api area path": ("get", "/api/v1/areas/%00/", None, None, "staff"),
    "api list query": ("get", "/api/v1/petitions/?q=%00", None, None, "staff"),
    "api json body": (
        "post",
        "/api/v1/petitions/",
        json.dumps({"title": "垃圾\u0000", "description": "门口\u0000"}),
        "application/json",
        "staff",
    ),
    "staff list query": ("get", "/petitions/?q=%00", None, None, "staff"),
    "area page path": ("get", "/areas/%00/", None, None, "staff"),
}


def _nul_params():
    for name, case in NUL_CASES.items():
        yield pytest.param(name, case, id=name.replace(" ", "-"))


@pytest.mark.parametrize(("name", "case"), list(_nul_params()))
def test_a_nul_byte_never_answers_500(client, world, name, case):
    method, url, data, content_type, who = case
    if who == "staff":
        client.force_login(world.users["street_command"])
    kwargs = {"content_type": content_type} if content_type else {}
    response = getattr(client, method)(url, data, **kwargs) if data is not None else getattr(client, method)(url)
    assert response.status_code < 500, (name, response.status_code)
    assert response.status_code in (302, 400, 404), (name, response.status_code)


def test_a_nul_byte_in_an_open311_post_answers_400(client, world, api_key):
    response = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": api_key,
            "service_code": world.category.code,
            "lat": "36.005",
            "long": "120.005",
            "description": "a\x00b",
        },
    )
    assert response.status_code == 400


def test_pages_and_answers_with_personal_data_are_not_stored_by_caches(client, world):
    client.force_login(world.users["grid_worker"])
    for url in (
        reverse("appeals:detail", args=[world.inside.tracking_no]),
        reverse("api-petition-detail", args=[world.inside.tracking_no]),
        reverse("api-petition-list"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response.get("Cache-Control", ""), url


def test_html_pages_carry_a_content_security_policy_without_inline_scripts(client, world):
    for url in (reverse("home"), reverse("appeals:new"), reverse("appeals:track")):
        policy = client.get(url).get("Content-Security-Policy", "")
        assert "script-src" in policy or "default-src" in policy, url
        assert "'unsafe-inline'" not in policy.split("script-src", 1)[-1].split(";", 1)[0], url


def test_every_response_carries_the_basic_security_headers(client, world):
    for url in (reverse("home"), reverse("appeals:track"), "/api/v1/track/?tracking_no=1&phone=1"):
        response = client.get(url)
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response.get("Referrer-Policy"), url
