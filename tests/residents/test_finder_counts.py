"""The finder's counts against plain SQL written independently of it, on a fixed data set.

The SQL computes ages with PostgreSQL's own AGE(), tags with GROUP BY … HAVING and keywords with
POSITION(): none of the finder's code (birth-date bounds, EXISTS, ILIKE) is reused.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appeals.models import Category, CategoryKind, Channel
from appeals.services import petition_route, petition_submit
from governance.models import Role
from governance.scoping import scope_for
from residents.finder import TAG_ALL, TAG_ANY, FinderQuery, finder_residents
from residents.models import ContactOutcome, Policy, PolicyContact
from tests.factories import make_user
from tests.residents.finder_data import TODAY, build_finder_world

pytestmark = [pytest.mark.postgres]

NOON = dt.datetime.combine(TODAY, dt.time(12), tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def frozen():
    with time_machine.travel(NOON, tick=False):
        yield


@pytest.fixture
def fworld(tree, frozen):
    return build_finder_world(tree)


@pytest.fixture
def district_user(tree):
    return make_user("district", role=Role.DISTRICT_CENTRE, area=tree.district)


def sql_count(where: str, params: list) -> int:
    sql = (
        "SELECT COUNT(*) FROM residents_resident r JOIN residents_house h ON h.id = r.house_id "
        "WHERE r.status = 'active' AND " + where
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


AGE = "DATE_PART('year', AGE(%s::date, r.birth_date))"


def test_women_of_screening_age_in_one_community(fworld, community_secretary):
    community = fworld.tree["DS0C0"]
    query = FinderQuery(age_min=35, age_max=64, gender="female")
    expected = sql_count(
        f"r.community_id = %s AND r.gender = 'female' AND {AGE} BETWEEN 35 AND 64", [community.pk, TODAY]
    )
    assert expected > 0
    assert finder_residents(community_secretary, query).count() == expected


def test_all_of_two_tags_over_a_street(fworld, street_command):
    tags = fworld.tags
    query = FinderQuery(tags=(tags["veteran"].pk, tags["unemployed"].pk), tag_mode=TAG_ALL)
    expected = sql_count(
        "r.street_id = %s AND r.id IN (SELECT resident_id FROM residents_residenttag WHERE tag_id IN (%s, %s) "
        "GROUP BY resident_id HAVING COUNT(DISTINCT tag_id) = 2)",
        [fworld.tree["DS0"].pk, tags["veteran"].pk, tags["unemployed"].pk],
    )
    assert expected > 0
    assert finder_residents(street_command, query).count() == expected


def test_any_of_tags_floating_living_alone_in_rented_houses(fworld, district_user):
    tags = fworld.tags
    query = FinderQuery(
        tags=(tags["disabled"].pk, tags["dibao"].pk),
        tag_mode=TAG_ANY,
        registration="floating",
        living_alone=True,
        house_uses=("group_rental", "rented"),
    )
    expected = sql_count(
        "r.registration = 'floating' AND r.living_alone AND h.use IN ('rented', 'group_rental') AND "
        "(SELECT COUNT(*) FROM residents_residenttag t WHERE t.resident_id = r.id AND t.tag_id IN (%s, %s)) > 0",
        [tags["disabled"].pk, tags["dibao"].pk],
    )
    assert expected > 0
    assert finder_residents(district_user, query).count() == expected


def test_elderly_by_age_alone_and_by_area(fworld, district_user):
    grid = fworld.tree["DS1C0G1"]
    query = FinderQuery(age_min=80, area_id=grid.pk)
    expected = sql_count(f"r.grid_id = %s AND {AGE} >= 80", [grid.pk, TODAY])
    assert expected > 0
    assert finder_residents(district_user, query).count() == expected
    young = FinderQuery(age_max=17, gender="male")
    assert finder_residents(district_user, young).count() == sql_count(f"{AGE} <= 17 AND r.gender = 'male'", [TODAY])


@pytest.mark.parametrize("keyword", ["疫区", "幸福路", "王"])
def test_keyword_over_names_addresses_and_notes(fworld, district_user, keyword):
    expected = sql_count(
        "(POSITION(%s IN r.name) > 0 OR POSITION(%s IN h.address) > 0 OR POSITION(%s IN r.notes) > 0)",
        [keyword, keyword, keyword],
    )
    assert expected > 0
    assert finder_residents(district_user, FinderQuery(keyword=keyword)).count() == expected


def test_keyword_wildcards_are_literal(fworld, district_user):
    assert finder_residents(district_user, FinderQuery(keyword="%")).count() == 0
    assert finder_residents(district_user, FinderQuery(keyword="_")).count() == 0


def test_not_contacted_since(fworld, community_secretary):
    community = fworld.tree["DS0C0"]
    people = [r for r in fworld.residents if r.community_id == community.pk and r.status == "active"][:6]
    policy = Policy.objects.create(
        name="测试政策", conditions={}, area=community, area_path=community.path, created_by=community_secretary
    )
    for i, resident in enumerate(people):
        contact = PolicyContact(
            policy=policy, resident=resident, outcome=ContactOutcome.PHONE, contacted_by=community_secretary
        )
        contact.contacted_at = NOON - dt.timedelta(days=10 * i)  # 0, 10, 20 … days ago
        contact.save()
    since = TODAY - dt.timedelta(days=15)
    expected = sql_count(
        "r.community_id = %s AND NOT EXISTS (SELECT 1 FROM residents_policycontact c WHERE c.resident_id = r.id "
        "AND c.contacted_at >= %s)",
        [community.pk, dt.datetime.combine(since, dt.time.min, tzinfo=ZoneInfo("Asia/Shanghai"))],
    )
    total = sql_count("r.community_id = %s", [community.pk])
    assert expected == total - 2  # contacted today and ten days ago
    assert finder_residents(community_secretary, FinderQuery(not_contacted_since=since)).count() == expected


def test_open_petition_by_house_address_or_phone(fworld, community_secretary, tree):
    parent = Category.objects.create(code="F01", name="市容", kind=CategoryKind.EVENT)
    category = Category.objects.create(code="F0101", name="垃圾", kind=CategoryKind.EVENT, parent=parent)
    mine = [r for r in fworld.residents if r.community_id == tree["DS0C0"].pk and r.status == "active"]
    by_address, by_phone = mine[0], mine[5]
    for values in (
        {"address": by_address.house.address, "contact_phone": "13700000001"},
        {"address": "别处某路1号", "contact_phone": by_phone.phone, "lon": 120.005, "lat": 36.005},
    ):
        petition = petition_submit(
            channel=Channel.MOBILE, title="楼道漏水", description="楼道漏水", category=category, **values
        ).petition
        petition_route(petition_id=petition.pk)
    found = set(finder_residents(community_secretary, FinderQuery(open_petition=True)).values_list("pk", flat=True))
    housemates = {r.pk for r in mine if r.house_id == by_address.house_id}
    assert found == housemates | {by_phone.pk}


def test_the_count_endpoint_answers_the_same_number(fworld, community_secretary):
    client = Client()
    client.force_login(community_secretary)
    response = client.get(reverse("finder:count"), {"age_min": 60, "gender": "female"})
    assert response.status_code == 200
    expected = sql_count(
        f"r.community_id = %s AND r.gender = 'female' AND {AGE} >= 60", [fworld.tree["DS0C0"].pk, TODAY]
    )
    assert f">{expected}<" in response.content.decode()


def test_the_finder_page_without_javascript_shows_count_and_list(fworld, community_secretary):
    client = Client()
    client.force_login(community_secretary)
    response = client.get(reverse("finder:search"), {"q": "疫区"})
    assert response.status_code == 200
    expected = sql_count("r.community_id = %s AND POSITION('疫区' IN r.notes) > 0", [fworld.tree["DS0C0"].pk])
    assert response.context["count"] == expected
    assert len(response.context["rows"]) == min(expected, 20)


def test_keyword_letters_ignore_case(fworld, district_user):
    from residents.models import Resident

    target = next(r for r in fworld.residents if r.status == "active")
    Resident.objects.filter(pk=target.pk).update(notes="接触过 COVID 病例")
    found = finder_residents(district_user, FinderQuery(keyword="covid")).values_list("pk", flat=True)
    assert list(found) == [target.pk]


def test_every_page_of_the_list_is_the_next_twenty_by_record_id(fworld, district_user):
    """The page is its 20 ids first (a subquery), then those rows: the same rows, in the same order,
    as plain SQL's ORDER BY id with LIMIT and OFFSET, on each page and past the last one."""
    client = Client()
    client.force_login(district_user)
    where = f"r.gender = 'female' AND {AGE} >= 18"
    expected = sql_count(where, [TODAY])
    assert expected > 40
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.id FROM residents_resident r JOIN residents_house h ON h.id = r.house_id "
            f"WHERE r.status = 'active' AND {where} ORDER BY r.id",
            [TODAY],
        )
        ids = [row[0] for row in cursor.fetchall()]
    last = (expected + 19) // 20
    for number, shown in ((1, 1), (2, 2), (last, last), (last + 5, last)):
        response = client.get(reverse("finder:search"), {"gender": "female", "age_min": 18, "page": number})
        assert response.status_code == 200
        assert response.context["count"] == expected
        assert [row["pk"] for row in response.context["rows"]] == ids[(shown - 1) * 20 : shown * 20]


def test_many_open_petitions_match_every_house_and_phone(fworld, district_user):
    """Petitions written in bulk keep their address keys and phone digests (governance.derived):
    the residents of every such house and phone, nobody else, in one statement."""
    from appeals.models import Petition

    mine = [r for r in fworld.residents if r.status == "active"]
    houses = {r.house_id: r.house.address for r in mine[::7]}
    phoned = [r for r in mine[3::11] if r.phone]
    rows = [
        Petition(
            tracking_no=f"FT{i:08d}",
            access_token=f"finder-{i}",
            title="楼道漏水",
            description="楼道漏水",
            address=address,
            contact_phone="13700000001",
            area_path=fworld.tree.district.path,
            status="processing",
            handler_area=fworld.tree.district,
            created_at=NOON,
        )
        for i, address in enumerate(houses.values())
    ]
    rows += [
        Petition(
            tracking_no=f"FP{i:08d}",
            access_token=f"finder-phone-{i}",
            title="噪音",
            description="噪音",
            address="",
            contact_phone=r.phone,
            area_path=fworld.tree.district.path,
            status="assigned",
            handler_area=fworld.tree.district,
            created_at=NOON,
        )
        for i, r in enumerate(phoned)
    ]
    rows += [  # a closed one matches nobody
        Petition(
            tracking_no="FC00000001",
            access_token="finder-closed",
            title="噪音",
            description="噪音",
            address=mine[1].house.address,
            contact_phone="",
            area_path=fworld.tree.district.path,
            status="closed",
            handler_area=fworld.tree.district,
            created_at=NOON,
            resolved_at=NOON,
        )
    ]
    Petition.objects.bulk_create(rows)
    assert Petition.objects.filter(address="").exclude(contact_phone_hash="").count() == len(phoned)
    scope_for(district_user)  # the reader's posts, read once per request before any count
    with CaptureQueriesContext(connection) as captured:
        found = set(finder_residents(district_user, FinderQuery(open_petition=True)).values_list("pk", flat=True))
    assert len(captured.captured_queries) == 1  # the petitions are read inside the residents' statement
    expected = {r.pk for r in mine if r.house_id in houses} | {r.pk for r in phoned}
    assert len(houses) > 20 and len(phoned) > 10
    assert found == expected


def test_a_keyword_list_counts_and_pages_in_one_pass_like_plain_sql(fworld, district_user):
    """A keyword (a condition found through lists of index lookups) counts and takes its page's ids
    in one aggregate (residents.finder.count_and_page_ids): the same count and rows as plain SQL,
    on each page and past the last one."""
    client = Client()
    client.force_login(district_user)
    where = "(POSITION('幸福' IN r.name) > 0 OR POSITION('幸福' IN r.notes) > 0 OR POSITION('幸福' IN h.address) > 0)"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.id FROM residents_resident r JOIN residents_house h ON h.id = r.house_id "
            f"WHERE r.status = 'active' AND {where} ORDER BY r.id"
        )
        ids = [row[0] for row in cursor.fetchall()]
    assert len(ids) > 40
    last = (len(ids) + 19) // 20
    for number, shown in ((1, 1), (2, 2), (last, last), (last + 3, last), ("x", 1)):
        response = client.get(reverse("finder:search"), {"q": "幸福", "page": number})
        assert response.status_code == 200
        assert response.context["count"] == len(ids)
        assert response.context["pager"]["number"] == shown
        assert [row["pk"] for row in response.context["rows"]] == ids[(shown - 1) * 20 : shown * 20]


def test_one_pass_count_of_a_query_that_matches_nobody(fworld, street_command):
    from residents.finder import count_and_page_ids

    outside = FinderQuery(keyword="幸福", area_id=fworld.tree["DS1"].pk)  # outside the street's scope
    assert count_and_page_ids(street_command, outside, 0, 20) == (0, [])
    with CaptureQueriesContext(connection) as captured:
        assert count_and_page_ids(street_command, outside, 0, 20) == (0, [])  # kept: no statement at all
    assert captured.captured_queries == []


# --- The live count's kept statement (residents.finder.finder_residents_count) -----------------------


def test_the_kept_count_equals_the_querysets_and_counts_afresh_each_time(fworld, district_user, street_command):
    from residents.finder import finder_residents_count
    from residents.models import Resident

    tags = fworld.tags
    queries = [
        FinderQuery(age_min=35, age_max=64, gender="female"),
        FinderQuery(tags=(tags["veteran"].pk, tags["unemployed"].pk), tag_mode=TAG_ALL),
        FinderQuery(age_min=80, living_alone=True),
        FinderQuery(keyword="幸福"),
        FinderQuery(area_id=fworld.tree["DS0C0"].pk, registration="floating"),
        FinderQuery(area_id=fworld.tree["DS1"].pk),  # outside the street's scope: nobody, no statement
    ]
    for user in (district_user, street_command):
        for query in queries:
            expected = finder_residents(user, query).count()
            assert finder_residents_count(user, query) == expected  # compiled and kept
            with CaptureQueriesContext(connection) as captured:
                assert finder_residents_count(user, query) == expected  # sent again as kept
            assert len(captured.captured_queries) <= 1
    assert finder_residents_count(street_command, queries[-1]) == 0
    # A resident who moves away leaves the count at once: only the statement is kept, not the number.
    query = FinderQuery(age_min=35, age_max=64, gender="female")
    before = finder_residents_count(district_user, query)
    leaving = finder_residents(district_user, query).first()
    Resident.objects.filter(pk=leaving.pk).update(status="moved_away")
    assert finder_residents_count(district_user, query) == before - 1


def test_the_kept_count_follows_the_day_and_the_readers_scope(fworld, district_user, street_command):
    from residents.finder import finder_residents_count

    query = FinderQuery(age_min=60)
    assert finder_residents_count(district_user, query) != finder_residents_count(street_command, query)
    now = finder_residents_count(district_user, query)
    with time_machine.travel(NOON + dt.timedelta(days=3653), tick=False):  # ten years on: more are 60+
        later = finder_residents_count(district_user, query)
        assert later == finder_residents(district_user, query).count()
    assert later > now
    assert finder_residents_count(district_user, query) == now


# --- The list's kept page (residents.finder.finder_page, finder_page_of_ids) ------------------------


def _expected_rows(user, query, start: int) -> list:
    from residents.models import ResidentTag

    residents = list(finder_residents(user, query).select_related("house").order_by("pk")[start : start + 20])
    names = {}
    for link in ResidentTag.objects.filter(resident__in=residents).select_related("tag"):
        names.setdefault(link.resident_id, set()).add(link.tag.name)
    return [
        (r.pk, r.name, r.gender, r.birth_date, r.phone, r.notes, r.house.address, names.get(r.pk, set()))
        for r in residents
    ]


def _shown(found) -> list:
    return [(r.pk, r.name, r.gender, r.birth_date, r.phone, r.notes, r.address, set(r.tags)) for r in found]


def test_the_kept_page_equals_the_querysets_rows_and_reads_them_afresh(fworld, district_user, street_command):
    from residents.finder import finder_page
    from residents.models import Resident

    tags = fworld.tags
    queries = [
        FinderQuery(age_min=35, age_max=64, gender="female"),
        FinderQuery(tags=(tags["veteran"].pk, tags["unemployed"].pk), tag_mode=TAG_ANY),
        FinderQuery(area_id=fworld.tree["DS0C0"].pk, registration="floating"),
        FinderQuery(area_id=fworld.tree["DS1"].pk),  # outside the street's scope: nobody, no statement
    ]
    for user in (district_user, street_command):
        for query in queries:
            for start in (0, 20):
                expected = _expected_rows(user, query, start)
                assert _shown(finder_page(user, query, start, 20)) == expected  # compiled and kept
                with CaptureQueriesContext(connection) as captured:
                    assert _shown(finder_page(user, query, start, 20)) == expected  # sent again as kept
                assert len(captured.captured_queries) <= 1
    assert finder_page(street_command, queries[-1], 0, 20) == []
    # Only the statement is kept: a renamed resident shows renamed, one who moved away is gone.
    query = queries[0]
    first, second = (row.pk for row in finder_page(district_user, query, 0, 20)[:2])
    Resident.objects.filter(pk=first).update(name="改名")
    Resident.objects.filter(pk=second).update(status="moved_away")
    page = finder_page(district_user, query, 0, 20)
    assert page[0].pk == first and page[0].name == "改名"
    assert second not in {row.pk for row in page}
    assert _shown(page) == _expected_rows(district_user, query, 0)


def test_a_page_of_known_ids_is_read_in_id_order_by_one_statement_per_length(fworld, district_user):
    from residents.finder import finder_page_of_ids

    ids = list(finder_residents(district_user, FinderQuery()).order_by("pk").values_list("pk", flat=True)[:40])
    assert [row.pk for row in finder_page_of_ids(ids[:20])] == ids[:20]
    with CaptureQueriesContext(connection) as captured:
        page = finder_page_of_ids(list(reversed(ids[20:40])))  # the same length: the kept statement
    assert [row.pk for row in page] == ids[20:40]
    assert len(captured.captured_queries) == 1
    assert [row.pk for row in finder_page_of_ids(ids[:3])] == ids[:3]
    assert finder_page_of_ids([]) == []


def test_a_page_row_is_judged_by_the_access_policy_like_its_resident(fworld, tree, district_user, community_secretary):
    """Revealing and the minor rule ask residents.policy about the row read as values exactly as
    about the model instance (FoundResident carries the Resident's _meta)."""
    from residents.finder import page_of
    from residents.models import Resident
    from residents.policy import record_access

    grid_worker = make_user("gridw", role=Role.GRID_WORKER, area=tree["DS0C0G0"])
    everyone = Resident.objects.filter(status="active")
    rows = page_of(everyone, 0, 400)
    assert any(row.birth_date > TODAY.replace(year=TODAY.year - 18) for row in rows)  # minors among them
    resident_of = {r.pk: r for r in everyone}
    for user in (district_user, community_secretary, grid_worker):
        for row in rows:
            assert record_access(user, row) == record_access(user, resident_of[row.pk]), (user, row.pk)
