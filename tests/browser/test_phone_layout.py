"""Every page at 360 px: nothing scrolls sideways, and the header's menu opens (without JavaScript too)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.appeals.conftest import category, submit  # noqa: F401  (fixtures: a routed petition)
from tests.browser.conftest import TIMEOUT_MS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}

# Pages per persona (a fixture of tests/conftest.py; None: an anonymous visitor).
PAGES: dict[str | None, list[str]] = {
    None: ["/", "/petitions/new/", "/petitions/track/", "/accounts/login/"],
    "resident": ["/petitions/mine/", "/petitions/new/", "/notifications/", "/accounts/"],
    "grid_worker_a": ["/", "/petitions/", "/petitions/?tab=all", "/petitions/map/", "/notifications/", "/patrol/"],
    "community_secretary": ["/", "/petitions/?tab=all", "/records/", "/residents/finder/", "/reports/"],
    "street_command": ["/", "/petitions/?tab=all", "/hotline/replies/", "/panorama/", "/reports/"],
    "district_centre": ["/", "/petitions/?tab=all", "/reports/", "/panorama/"],
    "department_handler": ["/", "/petitions/?tab=all", "/notifications/"],
}


@pytest.fixture
def phone(browser, live_server) -> Iterator:
    def open_context(*, javascript: bool = True):
        context = browser.new_context(
            base_url=live_server.url, locale="zh-CN", viewport=PHONE, is_mobile=True, java_script_enabled=javascript
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    contexts: list = []
    yield open_context
    for context in contexts:
        context.close()


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-12345")
    page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def assert_menu_opens(page) -> None:
    nav = page.locator(".site-nav")
    assert nav.is_hidden(), f"{page.url}: the menu is open before it is asked for"
    page.click(".site-menu-toggle")
    assert nav.is_visible(), f"{page.url}: the menu does not open"
    assert page.locator(".site-nav a").first.is_visible()
    assert overflow(page) <= PHONE["width"], f"{page.url}: the open menu scrolls sideways"


@pytest.mark.parametrize("persona", list(PAGES), ids=lambda persona: persona or "visitor")
def test_no_page_scrolls_sideways_and_the_menu_opens(request, phone, submit, persona):  # noqa: F811
    submit()  # one petition in grid A: the lists draw a card
    submit(title="一条很长很长的标题" * 6)
    page = phone()
    if persona:
        log_in(page, request.getfixturevalue(persona).username)
    wide = []
    for path in PAGES[persona]:
        response = page.goto(path)
        assert response is not None and response.status == 200, (persona, path, response and response.status)
        if (width := overflow(page)) > PHONE["width"]:
            wide.append(f"{path}: {width}px")
    assert not wide, f"{persona or 'visitor'}: pages wider than {PHONE['width']}px: {wide}"
    assert_menu_opens(page)
    if persona and persona != "resident":
        # The bell and the way out stay reachable on a phone.
        assert page.locator("#bell").is_visible()
        assert page.locator(".site-nav form[action='/accounts/logout/'] button").is_visible()


def test_the_menu_opens_and_leads_on_without_javascript(phone, live_server, tree):
    page = phone(javascript=False)
    page.goto("/")
    assert_menu_opens(page)
    page.click(".site-nav a[href='/petitions/track/']")
    page.wait_for_url("**/petitions/track/")
    assert overflow(page) <= PHONE["width"]
    # The resident's form itself is filed without JavaScript in tests/browser/test_petition_form.py.
