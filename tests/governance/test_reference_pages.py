"""设置: the reference pages staff read instead of the admin, each through the user's scope."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from appeals.models import Category, CategoryKind, TimeLimit
from governance.accesslog import AccessRecord, access_log_write
from governance.models import AccessLog, AccessReason, CalendarDay, CalendarDayKind, Department, DepartmentKind, Role
from governance.privacy import mask_phone
from governance.reference_selectors import calendar_year
from governance.workcalendar import calendar_cache_clear
from tests.factories import make_user

PAGES = ["index", "categories", "calendar", "departments", "staff"]


@pytest.fixture
def staff_of_both_streets(tree):
    return {
        "street0": make_user("street0", role=Role.STREET_COMMAND, area=tree["DS0"]),
        "street1": make_user("street1", role=Role.STREET_COMMAND, area=tree["DS1"]),
        "grid00": make_user("grid00", role=Role.GRID_WORKER, area=tree["DS0C0G0"]),
        "grid01": make_user("grid01", role=Role.GRID_WORKER, area=tree["DS0C0G1"]),
        "grid10": make_user("grid10", role=Role.GRID_WORKER, area=tree["DS1C0G0"]),
    }


@pytest.fixture
def units(tree):
    """A district department, a utility serving street 0 only, a property firm in street 1's community."""
    return {
        "cg": Department.objects.create(code="CG", name="区城市管理局", district=tree["D"], phone="0532-85782543"),
        "water": Department.objects.create(
            code="WT", name="自来水公司", kind=DepartmentKind.UTILITY, district=tree["DS0"], phone="0532-81234567"
        ),
        "property": Department.objects.create(
            code="WY", name="幸福物业", kind=DepartmentKind.PROPERTY, district=tree["DS1C0"], phone="13912345678"
        ),
    }


# --- Who opens the section -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_every_member_of_staff_opens_the_pages(client, tree, name, grid_worker_a, department_handler):
    for user in (grid_worker_a, department_handler):
        client.force_login(user)
        assert client.get(reverse(f"reference:{name}")).status_code == 200


@pytest.mark.parametrize("name", [*PAGES, "access_log"])
def test_residents_are_refused_and_visitors_sent_to_log_in(client, resident, name):
    url = reverse(f"reference:{name}")
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    client.force_login(resident)
    assert client.get(url).status_code == 403


# --- Staff: my subtree only ----------------------------------------------------------------------------


def _usernames(client, **query) -> set[str]:
    response = client.get(reverse("reference:staff"), query)
    assert response.status_code == 200
    return {row["post"].user.username for row in response.context["rows"]}


def test_a_street_sees_only_the_staff_of_its_subtree(client, staff_of_both_streets):
    client.force_login(staff_of_both_streets["street0"])
    assert _usernames(client) == {"street0", "grid00", "grid01"}
    assert _usernames(client, q="grid10") == set()


def test_a_grid_worker_sees_only_the_posts_of_their_grid(client, staff_of_both_streets):
    client.force_login(staff_of_both_streets["grid00"])
    assert _usernames(client) == {"grid00"}


def test_a_department_sees_only_its_own_staff(client, tree, department, staff_of_both_streets):
    handler = make_user("handler", role=Role.DEPARTMENT_HANDLER, department=department)
    leader = make_user("leader", role=Role.DEPARTMENT_LEADER, department=department)
    client.force_login(handler)
    assert _usernames(client) == {"handler", "leader"}
    client.force_login(leader)
    assert _usernames(client, role=Role.DEPARTMENT_LEADER) == {"leader"}


def test_the_district_and_administrators_see_everyone(
    client, tree, district_centre, administrator, staff_of_both_streets
):
    client.force_login(district_centre)
    assert _usernames(client) >= {"street0", "street1", "grid10", "district"}
    client.force_login(administrator)
    assert "admin" in _usernames(client)


def test_ended_posts_are_hidden_unless_asked_for(client, staff_of_both_streets):
    staff_of_both_streets["grid01"].posts.update(is_active=False)
    client.force_login(staff_of_both_streets["street0"])
    assert "grid01" not in _usernames(client)
    assert "grid01" in _usernames(client, active="all")


def test_the_staff_page_paginates_with_a_bounded_number_of_queries(
    client, tree, district_centre, django_assert_max_num_queries
):
    for i in range(60):
        make_user(f"gw{i:02}", role=Role.GRID_WORKER, area=tree["DS0C0G0"])
    client.force_login(district_centre)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("reference:staff"))
    assert len(response.context["rows"]) == 50
    assert response.context["page"].paginator.count == 61
    assert len(client.get(reverse("reference:staff"), {"page": 2}).context["rows"]) == 11


# --- Departments: scoped, office phones masked unless the role calls them -------------------------------


def _directory(client) -> dict[str, str]:
    response = client.get(reverse("reference:departments"))
    assert response.status_code == 200
    return {row["department"].code: row["phone"] for group in response.context["groups"] for row in group["rows"]}


def test_a_grid_worker_sees_the_units_serving_its_area_with_phones_masked(client, units, grid_worker_a):
    client.force_login(grid_worker_a)
    directory = _directory(client)
    assert set(directory) == {"CG", "WT"}  # not the property firm of the other street
    assert directory["CG"] == mask_phone("0532-85782543") != "0532-85782543"
    page = client.get(reverse("reference:departments")).content.decode()
    assert "0532-85782543" not in page and "85782543" not in page


def test_a_street_command_centre_reads_the_phones_of_the_units_it_dispatches_to(client, units, staff_of_both_streets):
    client.force_login(staff_of_both_streets["street1"])
    directory = _directory(client)
    assert set(directory) == {"CG", "WY"}
    assert directory["WY"] == "13912345678"


def test_a_department_reads_its_own_phone_and_sees_the_others_of_its_district_masked(client, units):
    client.force_login(make_user("water", role=Role.DEPARTMENT_HANDLER, department=units["water"]))
    directory = _directory(client)
    assert directory["WT"] == "0532-81234567"
    assert set(directory) == {"WT"}  # its district is street 0: no district-wide unit serves only that


def test_the_directory_groups_by_kind_and_filters(client, units, administrator):
    client.force_login(administrator)
    groups = client.get(reverse("reference:departments")).context["groups"]
    assert [group["kind"] for group in groups] == [
        DepartmentKind.DISTRICT,
        DepartmentKind.UTILITY,
        DepartmentKind.PROPERTY,
    ]
    filtered = client.get(reverse("reference:departments"), {"kind": DepartmentKind.UTILITY}).context["groups"]
    assert [row["department"].code for group in filtered for row in group["rows"]] == ["WT"]


def test_reading_the_reference_pages_writes_no_access_log(client, units, staff_of_both_streets):
    client.force_login(staff_of_both_streets["street1"])
    for name in PAGES:
        client.get(reverse(f"reference:{name}"))
    assert not AccessLog.objects.exists()  # office phones are not personal data; nothing is unmasked


# --- Categories and time limits ------------------------------------------------------------------------


@pytest.fixture
def limited_category(db):
    parent = Category.objects.create(code="T01", name="测试市容环境", kind=CategoryKind.EVENT)
    category = Category.objects.create(code="T0101", name="测试暴露垃圾", kind=CategoryKind.EVENT, parent=parent)
    now = timezone.now()
    values = {"category": category, "tier": 1, "accept_unit": "working_hours", "handle_unit": "working_days"}
    TimeLimit.objects.create(**values, accept_amount=2, handle_amount=3, effective_from=now - timedelta(days=30))
    TimeLimit.objects.create(**values, accept_amount=1, handle_amount=2, effective_from=now - timedelta(days=1))
    TimeLimit.objects.create(**values, accept_amount=1, handle_amount=1, effective_from=now + timedelta(days=5))
    return category


def test_the_category_page_shows_the_limits_in_force_and_their_history(client, grid_worker_a, limited_category):
    client.force_login(grid_worker_a)
    listing = client.get(reverse("reference:categories"), {"q": "T0101"})
    [row] = listing.context["rows"]
    assert [(r.accept_amount, r.handle_amount) for r in row["in_force"]] == [(1, 2)]
    assert row["versions"] == 3
    detail = client.get(reverse("reference:category", args=["T0101"]))
    states = [(v["row"].handle_amount, v["state"]) for v in detail.context["versions"]]
    assert states == [(1, "scheduled"), (2, "in_force"), (3, "replaced")]
    grid = detail.context["tiers"][0]
    assert grid["accept"] == "1 工作小时" and grid["handle"] == "2 工作日"
    assert "待生效" in detail.content.decode() and "已被替换" in detail.content.decode()


def test_an_unknown_category_is_404(client, grid_worker_a):
    client.force_login(grid_worker_a)
    assert client.get(reverse("reference:category", args=["NOPE"])).status_code == 404


def test_the_category_search_finds_by_code_and_name(client, grid_worker_a, limited_category):
    client.force_login(grid_worker_a)
    assert len(client.get(reverse("reference:categories"), {"q": "测试暴露"}).context["rows"]) == 1
    assert len(client.get(reverse("reference:categories"), {"q": "没有这个"}).context["rows"]) == 0


# --- The working calendar -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_calendar_lists_holidays_and_swapped_working_days_of_a_known_year():
    year = calendar_year(2025)
    national = next(p for p in year.holidays if p.first == date(2025, 10, 1))
    assert (national.name, national.last) == ("国庆节、中秋节", date(2025, 10, 8))  # one period, both names
    assert (date(2025, 9, 28), "国庆节", False) in year.swapped_workdays
    assert year.source == "chinese-calendar" and year.swaps_known


@pytest.mark.django_db
def test_the_calendar_shows_corrections_with_their_history():
    calendar_cache_clear()
    old = CalendarDay.objects.create(
        date=date(2025, 6, 10),
        kind=CalendarDayKind.WORKDAY,
        name="防汛",
        effective_from=timezone.now() - timedelta(days=2),
    )
    new = CalendarDay.objects.create(date=date(2025, 6, 10), kind=CalendarDayKind.HOLIDAY, name="防汛停工")
    calendar_cache_clear()
    year = calendar_year(2025)
    assert [(o["row"].pk, o["in_force"]) for o in year.overrides] == [(new.pk, True), (old.pk, False)]
    flood = next(p for p in year.holidays if p.first == date(2025, 6, 10))
    assert (flood.name, flood.overridden) == ("防汛停工", True)


@pytest.mark.django_db
def test_a_year_without_holiday_data_says_so(client, grid_worker_a):
    year = calendar_year(2099)
    assert year.source != "chinese-calendar" and not year.swaps_known and year.swapped_workdays == []
    client.force_login(grid_worker_a)
    page = client.get(reverse("reference:calendar"), {"year": "nonsense"})
    assert page.status_code == 200 and page.context["cal"].year == timezone.localdate().year


# --- The access log: the district centre ---------------------------------------------------------------


@pytest.fixture
def logged(db):
    alice, bob = make_user("alice"), make_user("bob")
    access_log_write(
        user=alice,
        reason=AccessReason.HANDLER_VIEW,
        records=[AccessRecord("appeals.petition", "1", "260101000001", ("contact_phone", "contact_name"))],
    )
    AccessLog.objects.create(
        at=timezone.now() - timedelta(days=3),
        user=bob,
        actor="bob",
        model="appeals.petition",
        object_id="2",
        record="260101000002",
        fields="description",
        reason=AccessReason.EXPORT,
    )
    return alice, bob


def _records(client, **query) -> list[str]:
    response = client.get(reverse("reference:access_log"), query)
    assert response.status_code == 200
    return [row["entry"].record for row in response.context["rows"]]


def test_the_district_centre_reads_and_filters_the_log(client, district_centre, logged):
    client.force_login(district_centre)
    assert _records(client) == ["260101000001", "260101000002"]
    assert _records(client, user="alice") == ["260101000001"]
    assert _records(client, reason=AccessReason.EXPORT) == ["260101000002"]
    assert _records(client, record="260101000002") == ["260101000002"]
    today = timezone.localdate()
    assert _records(client, since=today.isoformat()) == ["260101000001"]
    assert _records(client, until=(today - timedelta(days=1)).isoformat()) == ["260101000002"]
    page = client.get(reverse("reference:access_log")).content.decode()
    assert "联系电话" in page  # the field's name as people read it
    assert AccessLog.objects.count() == 2  # reading the log is not itself logged


def test_a_bad_date_is_reported_and_the_other_filters_still_apply(client, district_centre, logged):
    client.force_login(district_centre)
    response = client.get(reverse("reference:access_log"), {"since": "2026-13-40", "user": "bob"})
    assert response.status_code == 200
    assert response.context["form"].errors["since"]
    assert [row["entry"].record for row in response.context["rows"]] == ["260101000002"]
    response = client.get(reverse("reference:access_log"), {"since": "2026-02-01", "until": "2026-01-01"})
    assert "结束" in "".join(response.context["form"].errors["until"]) or response.context["form"].errors["until"]


@pytest.mark.parametrize("role,area", [(Role.STREET_COMMAND, "DS0"), (Role.COMMUNITY_SECRETARY, "DS0C0")])
def test_other_staff_cannot_read_the_log(client, tree, logged, role, area):
    client.force_login(make_user("u", role=role, area=tree[area]))
    response = client.get(reverse("reference:access_log"))
    assert response.status_code == 403
    assert "260101000001" not in response.content.decode()
    index = client.get(reverse("reference:index")).content.decode()
    assert reverse("reference:access_log") not in index


def test_the_access_log_page_shows_who_unmasked_a_petition_on_its_page(client, district_centre, tree, logged):
    # A row written where unmasking happens (the petition page's handler view) appears here with
    # the user's name, the record and the fields.
    client.force_login(district_centre)
    [row] = [r for r in client.get(reverse("reference:access_log")).context["rows"] if r["entry"].actor == "alice"]
    assert row["fields"] == ["联系电话", "联系人"] or len(row["fields"]) == 2
    assert row["kind"] == "诉求"
