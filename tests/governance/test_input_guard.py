"""A NUL byte or another control character answers a clear 400 on every URL, never a 500.

The URLs are the ones a probe answered 500 on (issue 8), anonymous and staff, in the path, the
query string and form/JSON bodies.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.test import Client

from appeals.models import Category, CategoryKind, Petition
from governance.models import ApiClient

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
MESSAGE = "控制字符"


def assert_refused_as_json(response, where: str) -> None:
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["code"] == "control_characters" and body["extra"] == {"where": where}
    assert MESSAGE in body["message"]


def assert_refused_as_page(response) -> None:
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("text/html")
    assert MESSAGE in response.content.decode()


@pytest.mark.parametrize(
    ("url", "where"),
    [
        ("/open311/v2/requests/%00.json", "path"),
        ("/open311/v2/services/%00.json", "path"),
        ("/open311/v2/requests.json?status=%00", "query"),
        ("/open311/v2/requests.json?service_request_id=A%01B", "query"),
        ("/api/v1/track/?tracking_no=%00", "query"),
    ],
)
def test_anonymous_json_urls_answer_a_json_400(client, tree, url, where):
    assert_refused_as_json(client.get(url), where)


@pytest.mark.parametrize("url", ["/petitions/track/%00/", "/petitions/track/%00/rate/", "/areas/%00/", "/?next=%1b"])
def test_anonymous_pages_answer_a_page_400_in_chinese(client, tree, url):
    assert_refused_as_page(client.get(url))


def test_the_open311_post_refuses_a_nul_in_any_field(client, tree):
    _client, key = ApiClient.create_with_key(name="市民通")
    form = {"api_key": key, "service_code": "T0101", "lat": "36.0", "long": "120.0", "description": "井盖\x00丢了"}

    response = client.post("/open311/v2/requests.json", data=urlencode(form), content_type=FORM)

    assert_refused_as_json(response, "body")
    assert not Petition.objects.exists()


def test_the_public_form_refuses_a_nul_and_stores_nothing(client, tree):
    response = client.post(
        "/petitions/new/", {"title": "路灯", "description": "坏了\x00", "contact_phone": "13800138000"}
    )

    assert_refused_as_page(response)
    assert not Petition.objects.exists()


def test_the_tracking_form_refuses_a_nul(client, tree):
    assert_refused_as_page(client.post("/petitions/track/", {"tracking_no": "\x00", "phone": "13800138000"}))


@pytest.mark.parametrize(
    "url",
    [
        "/petitions/%00/",
        "/petitions/?q=%00",
        "/api/v1/petitions/?q=%00",
        "/api/v1/petitions/%00/",
        "/admin/appeals/petition/?q=%00",
    ],
)
def test_staff_urls_refuse_control_characters(url, administrator):
    client = Client()
    client.force_login(administrator)

    response = client.get(url)

    assert response.status_code == 400
    assert MESSAGE in response.content.decode()


@pytest.mark.parametrize("body", ['{"note": "\\u0000"}', '{"note": "a\\u001b[31m"}', '{"note": "\\u0085"}'])
def test_json_bodies_with_escaped_control_characters_are_refused(body, administrator):
    client = Client()
    client.force_login(administrator)

    response = client.post("/api/v1/petitions/X/urge/", data=body, content_type="application/json")

    assert_refused_as_json(response, "body")


def test_line_breaks_and_tabs_in_bodies_pass(client, tree):
    parent = Category.objects.create(code="G01", name="测试类", kind=CategoryKind.EVENT)
    category = Category.objects.create(code="G0101", name="测试小类", kind=CategoryKind.EVENT, parent=parent)
    _client, key = ApiClient.create_with_key(name="市民通")
    form = {"api_key": key, "service_code": category.code, "lat": "36.005", "long": "120.005"}
    form["description"] = "第一行\r\n第二行\t完"

    response = client.post("/open311/v2/requests.json", data=urlencode(form), content_type=FORM)

    assert response.status_code == 201, response.content
    assert "第二行\t完" in Petition.objects.get().description


def test_an_escaped_backslash_before_u0000_is_text_not_a_control_character(administrator):
    client = Client()
    client.force_login(administrator)

    response = client.post(
        "/api/v1/petitions/X/urge/", data=json.dumps({"note": "C:\\u0000"}), content_type="application/json"
    )

    assert response.status_code == 404  # the petition does not exist; the note itself was accepted
