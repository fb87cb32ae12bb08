"""The policy finder's live count in Chromium: it follows typing in the age fields as it follows the
keyword, and a value the browser refuses (age 600, the fields allow 0–130) takes the count's place
with the reason instead of leaving the last count beside it. Without JavaScript the form is a plain
GET form."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TIMEOUT_MS
from tests.residents.records_fixtures import records  # noqa: F401  (fixture: two residents of DS0C0, aged 76 and 10)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INVALID = re.compile(r"\bis-invalid\b")


def test_the_count_follows_the_age_fields_and_never_stands_beside_a_refused_value(page, login, records):  # noqa: F811
    login(records.users["community_secretary"].username)
    page.goto("/residents/finder/")
    count = page.locator("#finder-count")
    alert = count.locator("[role=alert].text-danger")
    age_min, age_max = page.locator("#id_age_min"), page.locator("#id_age_max")

    age_min.press_sequentially("60")  # no blur, no Enter: the count follows the typing
    expect(count.locator(".finder-number")).to_have_text("1")
    expect(age_min).to_be_focused()

    age_min.press_sequentially("0")  # 600: the browser refuses it and htmx asks nothing
    expect(alert).to_contain_text("年龄从")  # the field's label and the browser's own words
    expect(count.locator(".finder-number")).to_have_count(0)  # the last count is gone
    expect(age_min).to_have_class(INVALID)

    age_min.press("Backspace")  # 60 again
    expect(count.locator(".finder-number")).to_have_text("1")
    expect(age_min).not_to_have_class(INVALID)

    age_max.press_sequentially("-5")
    expect(alert).to_contain_text("年龄到")
    expect(age_max).to_have_class(INVALID)

    # A condition only the server refuses answers in the same place (its 400 fragment).
    age_max.fill("50")
    expect(alert).to_have_text("年龄上限不能低于下限。")
    expect(age_max).not_to_have_class(INVALID)
    age_max.fill("")
    age_min.fill("")
    expect(count.locator(".finder-number")).to_have_text("2")


def test_the_finder_is_a_plain_form_without_javascript(browser, live_server, records):  # noqa: F811
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", records.users["community_secretary"].username)
    page.fill("#id_password", "pass-12345")
    page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto("/residents/finder/")
    page.fill("#id_age_min", "60")
    page.click("#finder-form button[type=submit]")
    page.wait_for_url(re.compile(r"/residents/finder/\?.*age_min=60"))
    expect(page.locator("#finder-count .finder-number")).to_have_text("1")
    context.close()
