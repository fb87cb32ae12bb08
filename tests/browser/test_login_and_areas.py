"""A street command centre logs in, finds its street, sees it on the map, and nothing beside it."""

from __future__ import annotations

import pytest

from governance.models import Role
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_WIDTH = 360


@pytest.fixture
def street_user(tree):
    make_user("street_cmd", role=Role.STREET_COMMAND, area=tree["DS0"])
    return tree


def assert_no_horizontal_scroll(page) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{page.url} scrolls sideways: {width}px on a {PHONE_WIDTH}px screen"


def test_the_login_page_is_in_chinese_by_default(page):
    page.goto("/accounts/login/")

    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "登录" in page.locator("h1").inner_text()
    assert page.locator("form #id_username").is_visible()


def test_a_street_command_user_logs_in_and_sees_the_street_on_its_map(page, login, street_user):
    login("street_cmd")

    home = page.locator("main")
    assert "第1街道" in home.inner_text()
    assert "第2街道" not in home.inner_text()

    page.click("a[href='/areas/DS0/']")
    page.wait_for_selector("#map[data-ready='1']")

    assert page.locator("h1").inner_text().startswith("第1街道")
    # Leaflet draws each child community as an SVG path.
    assert page.locator("#map path.leaflet-interactive").count() == 2


def test_another_streets_page_is_not_found(page, login, street_user):
    login("street_cmd")

    response = page.goto("/areas/DS1/")

    assert response.status == 404
    assert "第2街道" not in page.content()


def test_the_pages_fit_a_360px_phone(page, login, street_user):
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 740})
    page.goto("/accounts/login/")
    assert_no_horizontal_scroll(page)

    login("street_cmd")
    assert_no_horizontal_scroll(page)

    page.goto("/areas/DS0/")
    page.wait_for_selector("#map[data-ready='1']")
    assert page.locator("#map path.leaflet-interactive").count() == 2
    assert_no_horizontal_scroll(page)
