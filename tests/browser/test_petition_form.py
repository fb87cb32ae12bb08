"""A resident on a 360 px phone without JavaScript files a petition and gets a tracking number."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from appeals.models import Category, CategoryKind, Petition
from tests.browser.conftest import TIMEOUT_MS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}


@pytest.fixture
def taxonomy(tree):
    # Codes of their own: a data migration may already hold the standard taxonomy.
    parent = Category.objects.create(code="T9", name="测试大类", kind=CategoryKind.EVENT)
    return Category.objects.create(code="T901", name="测试小类", kind=CategoryKind.EVENT, parent=parent)


@pytest.fixture
def phone_page(browser, live_server) -> Iterator:
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport=PHONE, java_script_enabled=False, is_mobile=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def assert_no_horizontal_scroll(page) -> None:
    # Playwright's evaluate still works when the page's own scripts are disabled.
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways: {width}px on a {PHONE['width']}px screen"


def test_a_resident_files_a_petition_on_a_phone_without_javascript(phone_page, taxonomy, tree):
    page = phone_page
    page.goto("/petitions/new/")
    assert_no_horizontal_scroll(page)
    assert page.locator("#use-location").is_hidden()  # the location button needs JavaScript

    page.fill("#id_title", "小区门口垃圾堆积")
    page.fill("#id_description", "幸福路12号院门口垃圾三天没人清运。")
    page.select_option("#id_category", value=str(taxonomy.pk))
    page.select_option("#id_community", value=str(tree["DS0C0"].pk))
    page.fill("#id_address", "幸福路12号")
    page.fill("#id_contact_phone", "13800138000")
    page.click("main form button[type=submit]")

    page.wait_for_url(re.compile(r"/petitions/new/done/$"))
    petition = Petition.objects.get()
    assert page.locator("#tracking-no").inner_text().strip() == petition.tracking_no
    assert_no_horizontal_scroll(page)


def test_errors_keep_what_was_typed_without_javascript(phone_page, taxonomy):
    page = phone_page
    page.goto("/petitions/new/")
    page.fill("#id_description", "没有标题的诉求")
    page.fill("#id_contact_phone", "13800138000")
    page.click("main form button[type=submit]")
    page.wait_for_selector(".has-error #id_title")

    assert page.locator(".summary").is_visible()
    assert page.input_value("#id_description") == "没有标题的诉求"
    assert Petition.objects.count() == 0
    assert_no_horizontal_scroll(page)
