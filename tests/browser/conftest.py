"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

Playwright's own browser downloads are never used: the tests launch /usr/bin/chromium. Without it
they skip on a laptop and fail in CI (CI=true), where a browser test that never ran is a hole.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]
TIMEOUT_MS = 15_000


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


# Module scope: Playwright's loop must be gone before tests of other modules run in this process.
@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium (scripts/test does it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    # expect() waits 5 s by default: as long as any other wait here, on a loaded CI machine.
    expect.set_options(timeout=TIMEOUT_MS)

    # Playwright's sync API keeps an asyncio loop marked as running in this thread, so Django's
    # async-safety guard would refuse the tests' own (synchronous, safe) ORM calls meanwhile.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server) -> Iterator:
    context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def login(page):
    """Log `username` in through the real form; the page is left on the home page."""

    def login(username: str, password: str = "pass-12345"):
        page.goto("/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("main form button[type=submit]")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    return login


# The demo district at a small scale: every demo account and its areas, a few hundred petitions.
DEMO_SCALE = 0.02


@pytest.fixture
def demo(live_server):
    """`manage.py seed_demo` into the live server's (transactional) test database."""
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", scale=DEMO_SCALE, stdout=StringIO())


@pytest.fixture
def as_user(browser, live_server, demo):
    """`as_user("grid")` → a page in a fresh browser context, signed in as that demo account.

    Each user gets a context of their own (cookies apart), so one test can switch between roles.
    """
    from governance.demo import DEMO_PASSWORD

    contexts = []

    def sign_in(username: str, *, viewport: dict | None = None):
        context = browser.new_context(
            base_url=live_server.url, locale="zh-CN", viewport=viewport or {"width": 1366, "height": 768}
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.goto("/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    yield sign_in
    for context in contexts:
        # Let the pages' last requests (maps, charts) finish before the database is flushed under them.
        for page in context.pages:
            page.wait_for_load_state("networkidle")
        context.close()
