"""Names are text on the map, and the pages run under the CSP without a single violation."""

from __future__ import annotations

import pytest

from governance.models import Role
from grids.models import Area
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE = '<img src=x onerror="window.__pwned=1">社区'


@pytest.fixture
def hostile_area(tree):
    make_user("street_cmd", role=Role.STREET_COMMAND, area=tree["DS0"])
    Area.objects.filter(code="DS0C0").update(name=HOSTILE)
    return tree


def watch_csp(page) -> list[str]:
    """Console messages about CSP violations (Chromium logs every blocked script or style)."""
    violations: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    page.on("pageerror", lambda error: violations.append(str(error)))
    return violations


def test_an_area_name_in_a_map_tooltip_is_shown_as_text_and_never_runs(page, login, hostile_area):
    violations = watch_csp(page)
    login("street_cmd")

    page.goto("/areas/DS0/")
    page.wait_for_selector("#map[data-ready='1']")
    shown: list[str] = []
    for index in range(page.locator("#map path.leaflet-interactive").count()):
        page.locator("#map path.leaflet-interactive").nth(index).hover(force=True)
        shown += page.locator(".leaflet-tooltip").all_inner_texts()

    assert HOSTILE in shown
    assert page.locator(".leaflet-tooltip img").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert violations == []


def test_the_petition_form_runs_its_script_under_the_csp(page, tree):
    violations = watch_csp(page)
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": 36.005, "longitude": 120.005})

    page.goto("/petitions/new/")
    page.click("#use-location")
    page.wait_for_function("document.getElementById('id_lat').value !== ''")

    assert page.input_value("#id_lon") == "120.005000"
    assert page.locator("#location-status").inner_text() == "已添加位置。"
    assert violations == []


def test_the_api_docs_render_under_the_csp(page, db):
    violations = watch_csp(page)

    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .information-container")

    assert [text for text in violations if "script" in text.lower()] == []
