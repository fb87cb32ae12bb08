"""The API's bounds: OPTIONS answered, `limit`/`offset` bounded, JSON bodies bounded in depth and size."""

from __future__ import annotations

import io
import json

import pytest
from django.urls import reverse
from rest_framework.exceptions import ParseError

from appeals.actions import BY_SLUG as ACTIONS
from appeals.models import Petition
from governance.api import MAX_JSON_DEPTH, BoundedJSONParser, json_depth_exceeds

API_URLS = [
    "/api/v1/petitions/",
    "/api/v1/petitions/stats/",
    "/api/v1/areas/",
    "/api/v1/areas/locate/",
    "/api/v1/hotline/import/",
]


@pytest.fixture
def staff_client(client, world):
    client.force_login(world.users["street_command"])
    return client


@pytest.mark.parametrize("action", list(ACTIONS))
def test_options_on_every_action_answers_200_with_allow(staff_client, world, action):
    response = staff_client.options(reverse(f"api-petition-{action}", args=[world.inside.tracking_no]))
    assert response.status_code == 200
    assert "POST" in response["Allow"]
    assert "OPTIONS" in response["Allow"]


@pytest.mark.parametrize("url", API_URLS)
def test_options_on_the_other_api_endpoints_answers_200_with_allow(staff_client, url):
    response = staff_client.options(url)
    assert response.status_code == 200
    assert "OPTIONS" in response["Allow"]


@pytest.mark.parametrize("url", ["/open311/v2/services.json", "/open311/v2/requests.json"])
def test_options_on_open311_answers_200_with_allow(client, db, url):
    response = client.options(url)
    assert response.status_code == 200
    assert "GET" in response["Allow"] and "OPTIONS" in response["Allow"]


def test_a_huge_limit_is_clamped_to_the_maximum_page_size(staff_client, world, settings):
    settings.API_MAX_PAGE_SIZE = 1
    for limit in ("2", "100000000", "9" * 40):
        response = staff_client.get("/api/v1/areas/", {"limit": limit})
        assert response.status_code == 200, limit
        assert len(response.json()["results"]) == 1, limit
        assert response.json()["count"] > 1


def test_a_huge_offset_answers_an_empty_page(staff_client, world):
    response = staff_client.get("/api/v1/petitions/", {"offset": "9" * 40})
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("value", ["-1", "abc", "1.5", "null", "", "１０"])
def test_a_limit_or_offset_that_is_not_a_whole_number_answers_400(staff_client, world, value):
    for name in ("limit", "offset"):
        response = staff_client.get("/api/v1/petitions/", {name: value})
        assert response.status_code == 400, (name, value)
        assert response.json()["code"] == "validation_error"
        assert name in response.json()["extra"]["fields"]


def test_a_deeply_nested_json_body_answers_400(staff_client, world):
    body = "[" * 5000 + "]" * 5000
    response = staff_client.post("/api/v1/petitions/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_json_nested_just_past_the_bound_answers_400_and_at_the_bound_passes_the_parser(staff_client, world):
    def nested(depth: int) -> str:
        return json.dumps(
            {"title": "t", "description": "d", "extra": json.loads("[" * (depth - 1) + "]" * (depth - 1))}
        )

    too_deep = staff_client.post("/api/v1/petitions/", nested(MAX_JSON_DEPTH + 1), content_type="application/json")
    assert too_deep.status_code == 400
    assert too_deep.json()["code"] == "parse_error"
    fits = staff_client.post("/api/v1/petitions/", nested(MAX_JSON_DEPTH), content_type="application/json")
    assert fits.status_code in (200, 201), fits.content


def test_a_json_body_larger_than_the_upload_limit_answers_400(staff_client, world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    before = Petition.objects.count()
    body = json.dumps({"title": "t", "description": "x" * 2000})
    response = staff_client.post("/api/v1/petitions/", body, content_type="application/json")
    # Django's own check or BoundedJSONParser's, whichever reads the body first.
    assert response.status_code == 400
    assert Petition.objects.count() == before


def test_the_parser_refuses_a_body_larger_than_the_upload_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    with pytest.raises(ParseError):
        BoundedJSONParser().parse(io.BytesIO(b'{"title": "0123456789"}'), "application/json", {})
    assert BoundedJSONParser().parse(io.BytesIO(b'{"a": 1}'), "application/json", {}) == {"a": 1}


def test_the_depth_check_counts_lists_and_objects():
    assert not json_depth_exceeds({"a": [1, {"b": 2}]}, 3)
    assert json_depth_exceeds({"a": [1, {"b": [2]}]}, 3)
    assert not json_depth_exceeds("scalar", 0)


def test_the_schema_documents_the_error_answers_of_every_operation(client, db):
    schema = client.get("/api/schema/?format=json").json()
    missing = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            needed = {"400", "401", "403", "404", "429"} | ({"409"} if method == "post" else set())
            if gaps := needed - set(operation["responses"]):
                missing.append(f"{method.upper()} {path}: {sorted(gaps)}")
    assert missing == []


def test_the_schema_says_what_the_server_refuses(client, db):
    components = client.get("/api/schema/?format=json").json()["components"]["schemas"]
    assert components["Area"]["properties"]["parent_code"]["nullable"] is True
    rating = json.dumps(components["PetitionDetail"]["properties"]["rating"])
    assert '""' in json.dumps(components) and ("BlankEnum" in rating or '""' in rating)
    assert components["PetitionCreate"]["properties"]["title"]["minLength"] == 1
