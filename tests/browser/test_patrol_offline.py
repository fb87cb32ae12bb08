"""A grid worker on a phone files a problem found on patrol while offline; it is sent once back online."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from appeals.models import Category, CategoryKind, Channel, Patrol, Petition
from governance.models import Role
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = Path(__file__).resolve().parents[2] / "test-results" / "screens"


def _wait_for(check, seconds: float = 15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.2)
    return check()


def test_a_problem_reported_offline_arrives_once_when_back_online(browser, live_server, tree):
    parent = Category.objects.create(code="T9", name="测试大类", kind=CategoryKind.EVENT)
    category = Category.objects.create(code="T901", name="测试小类", kind=CategoryKind.EVENT, parent=parent)
    make_user("patroller", role=Role.GRID_WORKER, area=tree["DS0C0G0"])
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 360, "height": 740}, is_mobile=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", "patroller")
    page.fill("#id_password", "pass-12345")
    page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto("/patrol/")
    page.click("text=开始巡查")
    page.wait_for_selector("text=巡查中")
    assert Patrol.objects.filter(ended_at__isnull=True).count() == 1

    context.set_offline(True)
    page.fill("#id_title", "井盖缺失")
    page.fill("#id_description", "幸福路12号门口井盖缺失，夜间危险")
    page.select_option("#id_category", str(category.pk))
    page.click("text=提交问题")
    page.wait_for_selector("#patrol[data-queued='1']", state="attached")
    assert page.locator("#queue-status").is_visible()
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "patrol-offline-360.png"), full_page=True)
    assert not Petition.objects.filter(channel=Channel.PATROL).exists()

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    petition = _wait_for(lambda: Petition.objects.filter(channel=Channel.PATROL).first())
    assert petition is not None and petition.title == "井盖缺失"
    page.wait_for_selector("#patrol[data-queued='0']", state="attached")
    time.sleep(1)
    assert Petition.objects.filter(channel=Channel.PATROL).count() == 1
    context.close()
