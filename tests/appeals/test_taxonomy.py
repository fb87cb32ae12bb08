"""The taxonomy: GB/T 30428 classes plus livelihood services, loaded by migration on every install."""

from __future__ import annotations

from collections import Counter

import pytest

from appeals.models import Category, CategoryKind, TimeLimit
from appeals.selectors import categories_for_intake
from appeals.services.deadlines import limits_cache_clear, limits_for
from appeals.taxonomy import TAXONOMY, categories_link_departments, categories_seed, subclasses
from governance.demo import DEPARTMENT_CATALOGUE
from governance.models import Department
from governance.workcalendar import TimeUnit

GBT_EVENTS = {"市容环境", "宣传广告", "施工管理", "突发事件", "街面秩序"}
GBT_COMPONENTS = {"公用设施", "道路交通", "市容环境设施", "园林绿化", "房屋土地"}


def test_it_has_the_ten_gbt_classes_and_livelihood_classes():
    kinds = Counter(cls.kind for cls in TAXONOMY)
    assert {cls.name for cls in TAXONOMY if cls.kind == CategoryKind.EVENT} == GBT_EVENTS
    assert {cls.name for cls in TAXONOMY if cls.kind == CategoryKind.COMPONENT} == GBT_COMPONENTS
    assert kinds[CategoryKind.LIVELIHOOD] >= 5


def test_codes_are_unique_and_sub_codes_extend_their_class():
    codes = [cls.code for cls in TAXONOMY] + [sub.code for _cls, sub in subclasses()]
    assert len(codes) == len(set(codes))
    for cls, sub in subclasses():
        assert len(sub.code) == 4 and sub.code.startswith(cls.code)
    assert all(cls.subs for cls in TAXONOMY)


def test_the_petition_topics_of_the_articles_are_there():
    names = {sub.name for _cls, sub in subclasses()}
    for topic in ("下水管堵塞", "路灯", "占道经营", "施工扰民", "无照经营游商", "露天烧烤", "井盖缺失破损"):
        assert topic in names
    for topic in ("流浪动物", "消防设施", "电动车停放", "供暖", "物业服务", "噪音扰民", "邻里纠纷"):
        assert topic in names


def test_default_departments_exist_in_the_demo_catalogue():
    suffixes = {code for code, _name, _short, _kind in DEPARTMENT_CATALOGUE}
    assert {sub.department for _cls, sub in subclasses() if sub.department} <= suffixes


@pytest.mark.django_db
def test_the_migration_loaded_every_category_with_a_parent():
    assert Category.objects.filter(parent__isnull=True).count() == len(TAXONOMY)
    assert Category.objects.filter(parent__isnull=False).count() == len(subclasses())
    for category in Category.objects.filter(parent__isnull=False).select_related("parent"):
        assert category.code.startswith(category.parent.code)
        assert category.kind == category.parent.kind
    # A fresh install has no departments: nothing is linked yet.
    assert not Category.objects.filter(default_department__isnull=False).exists()
    assert categories_for_intake().count() == len(subclasses())


@pytest.mark.django_db
def test_the_migration_loaded_default_and_emergency_time_limits():
    limits_cache_clear()
    assert TimeLimit.objects.filter(category__isnull=True, handling_mode="").count() == 4
    collapse = Category.objects.get(code="0401")
    assert limits_for(category_id=collapse.pk, handling_mode="fast", tier=1).accept.unit == TimeUnit.EMERGENCY_HOURS
    immediate = limits_for(category_id=None, handling_mode="immediate", tier=1)
    default = limits_for(category_id=None, handling_mode="fast", tier=1)
    assert immediate.handle.unit == TimeUnit.WORKING_HOURS and default.handle.unit == TimeUnit.WORKING_DAYS
    limits_cache_clear()


@pytest.mark.django_db
def test_seeding_again_creates_nothing_and_keeps_admin_edits():
    Category.objects.filter(code="0605").update(name="路灯照明")
    assert categories_seed() == (0, 0)
    assert Category.objects.get(code="0605").name == "路灯照明"


@pytest.mark.django_db
def test_it_links_departments_by_code_once_they_exist():
    Department.objects.create(code="370203-G27", name="区园林和环卫服务中心")
    Department.objects.create(code="999999-G27", name="别的区")
    linked = categories_link_departments(district_code="370203")
    garbage = Category.objects.get(code="0101")
    assert linked >= 1 and garbage.default_department.code == "370203-G27"
    assert Category.objects.get(code="1202").default_department is None  # its utility does not exist
    assert categories_link_departments(district_code="370203") == 0
