"""What keeps the staff worklist page cheap stays true: a tab's plain view (no filter named) skips
the filter form and draws its filter box from the keep, the site menu is kept per user with each
request's own CSRF token, and the rows take the category's and the department's names from the
per-process caches."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from appeals.filters import plain_tab
from appeals.models import Category, CategoryKind
from appeals.selectors import categories_by_id
from governance.models import Department
from governance.selectors import department_names

pytestmark = pytest.mark.django_db


def filter_box(html: str) -> str:
    return re.search(r'<details class="worklist-filter-box".*?</details>', html, re.S).group(0)


def menu(html: str) -> str:
    return re.search(r'<nav class="site-nav".*?</nav>', html, re.S).group(0)


def test_only_tab_page_order_and_size_make_a_plain_view():
    from django.http import QueryDict

    assert plain_tab(QueryDict("")) == "todo"
    assert plain_tab(QueryDict("tab=&page=2&sort=deadline&per_page=50")) == "todo"
    assert plain_tab(QueryDict("tab=done")) == "done"
    assert plain_tab(QueryDict("tab=nonsense")) is None  # the form says why
    assert plain_tab(QueryDict("tab=todo&q=")) is None  # a filter named, even empty


def test_a_plain_view_builds_no_form_and_shows_what_the_form_would(client, submit, grid_worker_a):
    submit()
    submit(title="路灯不亮")
    client.force_login(grid_worker_a)
    first = client.get(reverse("appeals:list"), {"tab": "todo"})  # draws the box, and keeps it
    plain = client.get(reverse("appeals:list"), {"tab": "todo"})
    assert not hasattr(plain.context["filter"], "_form")  # nothing built the form this time
    assert filter_box(first.content.decode()) == filter_box(plain.content.decode())
    formed = client.get(reverse("appeals:list"), {"tab": "todo", "q": "", "status": ""})
    assert formed.context["filter"].plain_tab is None
    rows = [row["petition"].tracking_no for row in plain.context["rows"]]
    assert len(rows) == 2 and rows == [row["petition"].tracking_no for row in formed.context["rows"]]
    # The kept box is the box the form draws; drawn again from the keep, still the same.
    assert filter_box(plain.content.decode()) == filter_box(formed.content.decode())
    again = client.get(reverse("appeals:list"), {"tab": "todo"})
    assert filter_box(again.content.decode()) == filter_box(formed.content.decode())
    # The rows name the category under its class, from the category cache.
    assert "测试市容环境 · </small>测试暴露垃圾" in plain.content.decode()


def test_the_kept_box_shows_the_chosen_order_and_tab(client, submit, grid_worker_a):
    client.force_login(grid_worker_a)
    html = client.get(reverse("appeals:list"), {"tab": "done", "sort": "deadline"}).content.decode()
    box = filter_box(html)
    assert 'value="done"' in box
    assert re.search(r'<option value="deadline" selected>', box)
    box = filter_box(client.get(reverse("appeals:list"), {"tab": "todo"}).content.decode())
    assert 'value="done"' not in box and not re.search(r'<option value="deadline" selected>', box)


def test_the_kept_menu_carries_each_requests_own_token_and_follows_the_user(client, grid_worker_a):
    client.force_login(grid_worker_a)
    first = client.get(reverse("appeals:list")).content.decode()
    second = client.get(reverse("appeals:list")).content.decode()
    tokens = [re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', menu(page)) for page in (first, second)]
    assert tokens[0] and tokens[0] != tokens[1]  # masked afresh per request, never the keep's
    assert "keepcsrftokenplaceholder" not in first + second
    strict = client.__class__(enforce_csrf_checks=True)
    strict.force_login(grid_worker_a)
    page = strict.get(reverse("appeals:list")).content.decode()
    token = re.search(
        r'action="/accounts/logout/"><input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)"', page
    )
    assert token, menu(page)
    assert strict.post(reverse("logout"), {"csrfmiddlewaretoken": token.group(1)}).status_code == 302
    # A new name is a new menu at once.
    grid_worker_a.last_name, grid_worker_a.first_name = "王", "小明"
    grid_worker_a.save()
    assert "王小明" in menu(client.get(reverse("appeals:list")).content.decode())


def test_the_name_caches_see_changes_and_rows_made_elsewhere(department):
    assert department_names()[department.pk] == department.name
    department.name = "区市容管理局"
    department.save()  # this process: at once
    assert department_names()[department.pk] == "区市容管理局"
    # Written without signals (another process, a bulk load): found when a row asks for its id.
    (other,) = Department.objects.bulk_create([Department(code="ZZ", name="区水务局", short_name="水务")])
    other = Department.objects.get(code="ZZ")
    assert department_names({other.pk})[other.pk] == "区水务局"
    categories_by_id()  # the cache holds what was there before
    parent = Category.objects.create(code="Z01", name="供水", kind=CategoryKind.EVENT)
    Category.objects.bulk_create([Category(code="Z0101", name="停水", kind=CategoryKind.EVENT, parent=parent)])
    child = Category.objects.get(code="Z0101")
    found = categories_by_id({child.pk})[child.pk]
    assert (found.name, found.parent.name) == ("停水", "供水")


def test_the_kept_fragments_follow_the_language(client, settings, grid_worker_a):
    client.force_login(grid_worker_a)
    assert "退出" in menu(client.get(reverse("appeals:list")).content.decode())
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(reverse("appeals:list")).content.decode()
    assert "Log out" in menu(english) and "退出" not in menu(english)
    assert ">All</a>" in english  # the tabs, kept per language too
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert "退出" in menu(client.get(reverse("appeals:list")).content.decode())


def test_a_fragment_without_a_request_is_drawn_afresh_and_not_kept():
    from django.template import Context, Template

    from governance.templatetags import keep

    template = Template('{% load keep %}{% keep "x" n %}[{{ n }}{% csrf_token %}]{% endkeep %}')
    assert template.render(Context({"n": 1})) == "[1]"
    assert not keep._kept
    kept = Template('{% load keep %}{% keep "x" %}[{{ n }}]{% endkeep %}')
    assert kept.render(Context({"n": 1, "csrf_token": "abc"})) == "[1]"
    assert kept.render(Context({"n": 2, "csrf_token": "abc"})) == "[1]"  # only the values named count
