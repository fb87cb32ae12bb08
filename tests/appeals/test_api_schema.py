"""The OpenAPI schema of the petition API, and the Swagger UI served from local files."""

from __future__ import annotations

import re

from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from appeals.actions import BY_SLUG as ACTIONS


def test_it_generates_a_valid_schema_of_the_petition_and_area_apis_without_warnings(db):
    GENERATOR_STATS.reset()
    patterns = [path("api/v1/", include("governance.apis")), path("api/v1/", include("appeals.apis"))]
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
    validate_schema(schema)
    assert not GENERATOR_STATS._warn_cache, dict(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, dict(GENERATOR_STATS._error_cache)
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/petitions/"])
    assert "get" in paths["/api/v1/petitions/{tracking_no}/"]
    assert "get" in paths["/api/v1/petitions/stats/"]
    assert "get" in paths["/api/v1/track/"]
    for action in ACTIONS:
        assert "post" in paths[f"/api/v1/petitions/{{tracking_no}}/{action}/"], action
    list_params = {p["name"] for p in paths["/api/v1/petitions/"]["get"]["parameters"]}
    assert {"status", "tier", "category", "overdue", "repeat", "q", "ordering", "created_after"} <= list_params


def test_it_serves_the_full_schema(admin_client):
    response = admin_client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/petitions/{tracking_no}/whistle/" in response.content


def test_it_serves_swagger_ui_from_local_static_files(admin_client):
    response = admin_client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    external = re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", html) + re.findall(r"https?://[\w.-]+", html)
    assert [url for url in external if "testserver" not in url] == []
