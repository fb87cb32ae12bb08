"""The Django admin is for administrators only (governance/admin_site.py); staff work in 设置."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from appeals.models import Category, CategoryKind
from governance.demo import DEMO_ACCOUNTS, seed_departments, seed_staff
from governance.models import Role
from tests.factories import make_department, make_user

# Each non-administrator role, posted as the demo posts it (area level or a department).
ROLE_POSTS = {
    Role.GRID_WORKER: "DS0C0G0",
    Role.MICROGRID_HEAD: "DS0C0G0M0",
    Role.COMMUNITY_WORKER: "DS0C0",
    Role.COMMUNITY_SECRETARY: "DS0C0",
    Role.STREET_COMMAND: "DS0",
    Role.DISTRICT_CENTRE: "D",
    Role.DEPARTMENT_HANDLER: None,
    Role.DEPARTMENT_LEADER: None,
}
ADMIN_URLS = [
    "/admin/",
    "/admin/login/",
    "/admin/appeals/petition/",
    "/admin/appeals/category/",
    "/admin/governance/calendarday/",
    "/admin/governance/accesslog/",
    "/admin/residents/tag/add/",
    "/admin/password_change/",
    "/admin/no/such/page/",
]


@pytest.fixture
def category(db):
    parent = Category.objects.create(code="T01", name="测试市容环境", kind=CategoryKind.EVENT)
    return Category.objects.create(code="T0101", name="测试暴露垃圾", kind=CategoryKind.EVENT, parent=parent)


def _staff(tree, role: str, *, is_staff: bool):
    area = ROLE_POSTS[role]
    if area is None:
        return make_user(f"u_{role}", role=role, department=make_department(), is_staff=is_staff)
    return make_user(f"u_{role}", role=role, area=tree[area], is_staff=is_staff)


def test_every_non_administrator_role_is_covered():
    assert set(ROLE_POSTS) == set(Role.values) - {Role.ADMINISTRATOR}


@pytest.mark.parametrize("role", list(ROLE_POSTS))
@pytest.mark.parametrize("is_staff", [False, True], ids=["demo", "old_is_staff_account"])
def test_it_refuses_the_admin_to_every_non_administrator_role(client, tree, role, is_staff):
    client.force_login(_staff(tree, role, is_staff=is_staff))
    for url in ADMIN_URLS:
        response = client.get(url)
        assert response.status_code == 403, url
        page = response.content.decode()
        assert "管理后台仅供系统管理员使用" in page, url
        assert 'href="/settings/"' in page  # where their work is now
        assert "no-store" in response["Cache-Control"]


def test_it_refuses_a_resident_and_sends_a_visitor_to_the_admin_login(client, resident):
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    assert client.get("/admin/login/").status_code == 200
    client.force_login(resident)
    assert client.get("/admin/").status_code == 403
    assert client.get("/admin/appeals/petition/").status_code == 403


def test_it_refuses_a_write_by_a_non_administrator(client, tree, category):
    client.force_login(_staff(tree, Role.STREET_COMMAND, is_staff=True))
    response = client.post(
        reverse("admin:appeals_category_change", args=[category.pk]),
        {"code": category.code, "name": "改名", "kind": category.kind},
    )
    assert response.status_code == 403
    category.refresh_from_db()
    assert category.name != "改名"


def test_it_lets_administrators_in(client, administrator, db):
    superuser = get_user_model().objects.create_superuser("root", password="x-12345")
    # An administrator post is enough, without is_staff or superuser.
    poster = make_user("poster", role=Role.ADMINISTRATOR)
    for user in (administrator, superuser, poster):
        client.force_login(user)
        assert client.get("/admin/").status_code == 200, user
        assert client.get("/admin/appeals/category/").status_code == 200, user


def test_an_inactive_administrator_is_not_let_in(administrator):
    administrator.is_active = False
    administrator.save(update_fields=["is_active"])
    client = Client()
    client.force_login(administrator)
    assert client.get("/admin/").status_code in (302, 403)


def test_the_header_links_the_admin_for_administrators_only(client, tree, administrator):
    client.force_login(_staff(tree, Role.STREET_COMMAND, is_staff=True))
    page = client.get(reverse("reference:index")).content.decode()
    assert 'href="/settings/"' in page
    assert 'href="/admin/"' not in page
    client.force_login(administrator)
    page = client.get(reverse("reference:index")).content.decode()
    assert 'href="/admin/"' in page and 'href="/settings/"' in page


def test_the_header_has_no_settings_link_for_a_resident(client, resident):
    client.force_login(resident)
    page = client.get(reverse("appeals:mine")).content.decode()
    assert 'href="/settings/"' not in page and 'href="/admin/"' not in page


def test_the_demo_makes_only_the_administrator_staff(tree):
    departments = seed_departments(tree.district)
    seed_staff(district=tree.district, departments=departments, seed=1)
    User = get_user_model()
    for username, role in DEMO_ACCOUNTS:
        assert User.objects.get(username=username).is_staff == (role == Role.ADMINISTRATOR), username
    assert not User.objects.filter(is_staff=True).exclude(posts__role=Role.ADMINISTRATOR).exists()
