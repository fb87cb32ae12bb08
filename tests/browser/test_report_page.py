"""The monthly report in Chromium: charts and the risk map render, the CSP is never violated."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.models import Role
from tests.analytics.render_fixtures import make_report
from tests.factories import make_user

SCREENS = Path(__file__).resolve().parents[2] / "test-results" / "screens"
READY = "document.documentElement.dataset.chartsReady === '1' && document.documentElement.dataset.mapReady === '1'"


@pytest.fixture
def report(tree):
    make_user("report_street", role=Role.STREET_COMMAND, area=tree["D"])
    return make_report(tree["D"])


def _watch_csp(page) -> list[str]:
    violations: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    page.on("pageerror", lambda error: violations.append(f"script error: {error}"))
    return violations


@pytest.mark.django_db(transaction=True)
def test_the_report_page_draws_its_charts_and_map_without_a_csp_violation(page, login, report):
    problems = _watch_csp(page)
    login("report_street")
    SCREENS.mkdir(parents=True, exist_ok=True)
    for width, height, name in ((1366, 768, "report-1366"), (360, 740, "report-360")):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"/reports/{report.pk}/")
        page.wait_for_function(READY)
        for chart in ("chart-trend-volume", "chart-trend-rates", "chart-categories", "chart-channels", "chart-units"):
            assert page.locator(f"#{chart} svg").count() == 1, chart
        assert page.locator("#risk-map path.leaflet-interactive").count() >= 8  # the eight grids (+ clusters)
        page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)
    page.goto(f"/reports/area/{report.area.code}/")
    page.screenshot(path=str(SCREENS / "report-list-360.png"), full_page=True)
    assert problems == []


@pytest.mark.django_db(transaction=True)
def test_hovering_a_sentence_shows_its_figure_and_a_grid_click_opens_its_report(page, login, report):
    login("report_street")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"/reports/{report.pk}/")
    page.wait_for_function(READY)
    claim = page.locator(".narrative .claim").first
    assert "1,164" in claim.get_attribute("data-hover")
    page.locator("#risk-map path.leaflet-interactive").first.click(force=True)
    page.wait_for_url(lambda url: "/reports/area/" in url)
