"""Security headers: a CSP without inline scripts, no-store on personal answers, Referrer-Policy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from appeals.services import petition_submit
from governance.middleware import is_public_path

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INLINE_SCRIPT_RE = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER_RE = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
INLINE_STYLE_RE = re.compile(r"<style\b|\sstyle\s*=", re.I)


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.fixture
def staff_client(street_command):
    client = Client()
    client.force_login(street_command)
    return client


@pytest.fixture
def petition(tree):
    return petition_submit(
        channel="mobile", title="路灯不亮", description="幸福路路灯坏了。", contact_phone="13800138000"
    ).petition


@pytest.mark.parametrize("url", ["/", "/petitions/new/", "/petitions/track/", "/accounts/login/"])
def test_every_page_carries_a_csp_without_inline_scripts(client, tree, url):
    response = client.get(url)

    policy = directives(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert response["Referrer-Policy"] == "same-origin"


def test_the_api_docs_allow_inline_styles_but_never_inline_scripts(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    policy = directives(response)
    assert "'unsafe-inline'" in policy["style-src"]
    assert policy["script-src"] == ["'self'"]
    assert not INLINE_SCRIPT_RE.search(response.content.decode())


@pytest.mark.parametrize("path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_template_has_inline_script_handler_or_style(path):
    text = path.read_text(encoding="utf-8")

    assert not INLINE_SCRIPT_RE.search(text), "move the script to static/js (data through data-* attributes)"
    assert not INLINE_HANDLER_RE.search(text), "bind events in static/js, not in on…= attributes"
    assert not INLINE_STYLE_RE.search(text), "move the style to static/css"


def test_staff_pages_and_the_api_are_not_stored(staff_client, petition):
    for url in ["/", "/petitions/", f"/petitions/{petition.tracking_no}/", "/api/v1/petitions/", "/admin/"]:
        response = staff_client.get(url)
        assert "no-store" in response.get("Cache-Control", ""), url


def test_the_residents_tracking_pages_are_not_stored(client, petition):
    client.post("/petitions/track/", {"tracking_no": petition.tracking_no, "phone": "13800138000"})
    for url in ["/petitions/track/", f"/petitions/track/{petition.tracking_no}/", "/api/v1/track/"]:
        response = client.get(url)
        assert "no-store" in response.get("Cache-Control", ""), url


def test_open311_requests_are_not_stored_and_the_service_list_may_be(client, petition):
    assert "no-store" in client.get("/open311/v2/requests.json")["Cache-Control"]
    assert "no-store" in client.get(f"/open311/v2/requests/{petition.tracking_no}.json")["Cache-Control"]
    assert "no-store" not in client.get("/open311/v2/services.json").get("Cache-Control", "")


@pytest.mark.parametrize(
    ("path", "public"),
    [
        ("/static/css/app.css", True),
        ("/health/", True),
        ("/open311/v2/services.json", True),
        ("/open311/v2/services/T0101.xml", True),
        ("/open311/v2/requests.json", False),
        ("/api/v1/petitions/", False),
        ("/api/v1/areas/", False),
        ("/petitions/track/X/", False),
    ],
)
def test_only_catalogues_and_assets_count_as_public(path, public):
    assert is_public_path(path) is public
