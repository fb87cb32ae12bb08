"""Record pages: masking by role, the logged reveal, minors, search by blind index, edit forms."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from governance.models import AccessLog
from governance.privacy import mask_text
from residents.models import House, RecordChange, Resident
from tests.residents import records_fixtures
from tests.residents.records_fixtures import id_number

records = records_fixtures.records

ADULT_ID = id_number(date(1950, 3, 15), 131)


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def page(client: Client, url: str, **query) -> str:
    response = client.get(url, query)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.mark.parametrize("role", ["grid_worker", "community_worker", "community_secretary"])
def test_the_handling_roles_see_masked_until_they_reveal_and_the_reveal_is_logged(records, role):
    client = client_for(records.users[role])
    url = reverse("residents:resident", args=[records.adult.pk])

    body = page(client, url)
    assert "王**" in body and "139******01" in body and ADULT_ID not in body and "13912340001" not in body
    assert 'href="?reveal=1"' in body
    assert not AccessLog.objects.exists()

    body = page(client, url, reveal="1")
    assert "王建国" in body and ADULT_ID in body and "13912340001" in body
    log = AccessLog.objects.get()
    assert log.user == records.users[role] and log.reason == "record_view"
    assert log.model == "residents.resident" and log.object_id == str(records.adult.pk)
    assert set(log.fields.split(",")) == {"name", "id_number", "phone", "birth_date", "notes"}
    assert log.path.endswith("reveal=1")


@pytest.mark.parametrize("role", ["microgrid_head", "street_command", "district_centre", "administrator"])
def test_oversight_roles_see_masked_only_and_nothing_is_logged(records, role):
    client = client_for(records.users[role])
    body = page(client, reverse("residents:resident", args=[records.adult.pk]), reveal="1")
    assert "王**" in body and "13912340001" not in body and ADULT_ID not in body
    assert 'href="?reveal=1"' not in body
    assert not AccessLog.objects.exists()


def test_the_house_page_reveals_and_logs_each_resident_shown(records):
    client = client_for(records.users["community_secretary"])
    url = reverse("residents:house", args=[records.house.pk])
    body = page(client, url)
    assert "王**" in body and "王建国" not in body
    body = page(client, url, reveal="1")
    assert "王建国" in body and "王小明" in body  # the secretary also sees the minor
    assert set(AccessLog.objects.values_list("object_id", flat=True)) == {str(records.adult.pk), str(records.minor.pk)}


def test_a_grid_worker_does_not_see_a_minor_anywhere(records):
    client = client_for(records.users["grid_worker"])
    assert client.get(reverse("residents:resident", args=[records.minor.pk])).status_code == 404
    body = page(client, reverse("residents:house", args=[records.house.pk]), reveal="1")
    assert "王小明" not in body and "王*明" not in body
    assert list(AccessLog.objects.values_list("object_id", flat=True)) == [str(records.adult.pk)]


@pytest.mark.parametrize(("role", "counted"), [("grid_worker", 1), ("community_secretary", 2)])
def test_the_building_page_counts_only_the_residents_the_reader_may_see(records, role, counted):
    # The house holds an adult and a minor; a grid worker may not see the minor, nor learn of them.
    response = client_for(records.users[role]).get(reverse("residents:building", args=[records.building.pk]))
    assert response.status_code == 200
    assert [house.active for house in response.context["houses"]] == [counted]


def test_a_house_marked_vacant_with_residents_living_there_is_flagged(records):
    client = client_for(records.users["community_worker"])
    house_url = reverse("residents:house", args=[records.house.pk])
    assert "登记为空置，但有在住居民" not in page(client, house_url)
    House.objects.filter(pk=records.house.pk).update(use="vacant")
    assert "登记为空置，但有在住居民" in page(client, house_url)
    assert 'title="登记为空置，但有在住居民"' in page(client, reverse("residents:building", args=[records.building.pk]))
    Resident.objects.filter(house=records.house).update(status="moved_away")
    assert "登记为空置，但有在住居民" not in page(client, house_url)


def test_notes_on_the_resident_page_are_masked_until_revealed(records):
    from residents.models import ResidentTag

    Resident.objects.filter(pk=records.adult.pk).update(notes="女儿王丽电话13812345678")
    veteran = records_fixtures.district_tags_ensure()["veteran"]
    ResidentTag.objects.create(resident=records.adult, tag=veteran, note="联系人13712345678")
    client = client_for(records.users["community_worker"])
    url = reverse("residents:resident", args=[records.adult.pk])
    body = page(client, url)
    assert "13812345678" not in body and "13712345678" not in body
    assert mask_text("13812345678") in body and mask_text("13712345678") in body  # the words are shown
    body = page(client, url, reveal="1")
    assert "13812345678" in body and "13712345678" in body
    assert "notes" in AccessLog.objects.get().fields.split(",")


@pytest.mark.parametrize("role", ["other_grid_worker", "department_handler", "resident"])
def test_outside_the_area_the_record_is_not_found(records, role):
    client = client_for(records.users[role])
    for name, pk in (("resident", records.adult.pk), ("house", records.house.pk), ("building", records.building.pk)):
        assert client.get(reverse(f"residents:{name}", args=[pk])).status_code == 404


def test_search_finds_by_exact_id_number_and_phone_and_by_name_and_address(records):
    client = client_for(records.users["grid_worker"])
    url = reverse("residents:search")
    assert f'href="/records/people/{records.adult.pk}/"' in page(client, url, q=ADULT_ID.lower())
    assert f'href="/records/people/{records.adult.pk}/"' in page(client, url, q="139 1234 0001")
    assert f'href="/records/people/{records.adult.pk}/"' not in page(client, url, q="13912340002")
    assert f'href="/records/people/{records.adult.pk}/"' in page(client, url, q="王建")
    body = page(client, url, q="幸福路12号1单元")
    assert f'href="/records/houses/{records.house.pk}/"' in body
    body = page(client, url, q="欧阳外街")  # another street's resident
    assert f'href="/records/people/{records.outsider.pk}/"' not in body


def test_search_refuses_department_staff(records):
    assert client_for(records.users["department_handler"]).get(reverse("residents:search")).status_code == 403


def test_opening_the_edit_form_is_logged(records):
    client = client_for(records.users["administrator"])
    page(client, reverse("residents:resident_edit", args=[records.adult.pk]))
    log = AccessLog.objects.get()
    assert log.fields == "name,birth_date,notes" and log.reason == "record_view"  # what the form shows in full


def test_an_edit_with_a_bad_id_number_says_why_in_chinese_and_changes_nothing(records):
    client = client_for(records.users["grid_worker"])
    url = reverse("residents:resident_edit", args=[records.adult.pk])
    before = RecordChange.objects.count()
    response = client.post(
        url,
        {"name": "王建国", "id_number": "370203195003151312", "relation": "householder", "registration": "registered"},
    )
    assert response.status_code == 400
    assert "校验码" in response.content.decode()
    assert RecordChange.objects.count() == before
    assert Resident.objects.get(pk=records.adult.pk).id_number == ADULT_ID


def test_an_edit_is_saved_with_its_history_shown_on_the_page(records):
    client = client_for(records.users["grid_worker"])
    response = client.post(
        reverse("residents:resident_edit", args=[records.adult.pk]),
        {
            "name": "王建国",
            "phone": "13800002222",
            "relation": "householder",
            "registration": "floating",
            "gender": "male",
            "birth_date": "1950-03-15",
            "notes": "行动不便",
        },
    )
    assert response.status_code == 302
    resident = Resident.objects.get(pk=records.adult.pk)
    assert resident.phone == "13800002222" and resident.registration == "floating"
    assert resident.id_number == ADULT_ID  # left empty: kept
    body = page(client, reverse("residents:resident", args=[records.adult.pk]))
    assert "行动不便" in body and "户籍人口 → 流动人口" in body  # the change history lists the field, in words


def test_the_history_masks_a_persons_old_and_new_values_until_revealed(records):
    from residents import services

    services.resident_update(resident=records.adult, actor=records.users["community_worker"], name="王建华")
    url = reverse("residents:resident", args=[records.adult.pk])
    for role in ("street_command", "community_worker"):
        body = page(client_for(records.users[role]), url)
        assert "王建国" not in body and "王建华" not in body and "王** → 王**" in body
    body = page(client_for(records.users["community_worker"]), url, reveal="1")
    assert "王建国 → 王建华" in body


def test_moving_away_and_tagging_through_the_page(records):
    client = client_for(records.users["community_worker"])
    veteran = records_fixtures.district_tags_ensure()["veteran"]
    url = reverse("residents:resident_tags", args=[records.adult.pk])
    assert client.post(url, {"tag": veteran.pk}).status_code == 302
    assert records.adult.tags.filter(tag=veteran).exists()
    leave = reverse("residents:resident_leave", args=[records.adult.pk])
    response = client.post(leave, {"status": "moved_away", "on": "2099-01-01"})
    assert response.status_code == 400 and "将来" in response.content.decode()
    assert client.post(leave, {"status": "moved_away", "on": str(date.today())}).status_code == 302
    assert Resident.objects.get(pk=records.adult.pk).status == "moved_away"


def test_staff_with_an_area_find_the_records_from_the_header(records):
    body = page(client_for(records.users["grid_worker"]), reverse("home"))
    assert 'href="/records/"' in body
    client = client_for(records.users["department_handler"])
    assert 'href="/records/"' not in client.get(reverse("appeals:list")).content.decode()


def _party(records):
    from residents.models import PartyGroup, PartyHousehold

    mine = PartyGroup(name="幸福路12号楼党小组", leader=records.adult)
    mine.locate(records.tree["DS0C0G0M0"])
    mine.save()
    mine.buildings.add(records.building)
    theirs = PartyGroup(name="和平路党小组", leader=records.outsider)
    theirs.locate(records.tree["DS1C1G1M1"])
    theirs.save()
    for house, member, group in ((records.house, records.adult, mine), (records.other_house, records.outsider, theirs)):
        household = PartyHousehold(house=house, member=member, group=group)
        household.locate(house.microgrid)
        household.save()
    PartyHousehold.objects.get(house=records.house).linked_houses.add(records.other_house)


def test_the_party_page_lists_the_subtree_groups_and_households_masked(records):
    _party(records)
    body = page(client_for(records.users["community_worker"]), reverse("residents:party"))
    assert "幸福路12号楼党小组" in body and "幸福路12号楼" in body and "幸福路12号1单元101" in body
    assert "王**" in body and "王建国" not in body
    assert "和平路党小组" not in body and "和平路8号2单元202" not in body and "欧阳" not in body
    assert not AccessLog.objects.exists()

    body = page(client_for(records.users["district_centre"]), reverse("residents:party"))
    assert "幸福路12号楼党小组" in body and "和平路党小组" in body

    for role in ("department_handler", "resident"):
        assert client_for(records.users[role]).get(reverse("residents:party")).status_code == 403


def test_a_move_in_date_in_the_future_is_refused_and_nothing_is_written(records):
    client = client_for(records.users["community_worker"])
    before = Resident.objects.count()
    response = client.post(
        reverse("residents:resident_new", args=[records.house.pk]),
        {
            "name": "李未来",
            "id_number": id_number(date(1980, 5, 1), 171),
            "relation": "other",
            "registration": "registered",
            "moved_in_on": "2099-01-01",
        },
    )
    assert response.status_code == 400 and "将来" in response.content.decode()
    assert "moved_in_on" in response.context["form"].errors  # the message stands at the field
    assert "李未来" in response.content.decode()  # what was typed stays
    assert Resident.objects.count() == before


def test_a_minor_added_by_a_community_worker_is_saved_and_they_go_back_to_the_house(records):
    client = client_for(records.users["community_worker"])
    birth = date.today().replace(year=date.today().year - 8, day=1)
    response = client.post(
        reverse("residents:resident_new", args=[records.house.pk]),
        {"name": "王小小", "id_number": id_number(birth, 173), "relation": "child", "registration": "registered"},
        follow=True,
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("residents:house", args=[records.house.pk])
    assert "未成年人" in response.content.decode()
    assert Resident.objects.filter(name="王小小").exists()


def test_the_history_names_choices_and_a_death_in_words(records):
    from residents import services

    worker = records.users["community_worker"]
    services.resident_mark_deceased(resident=records.adult, on=date.today(), actor=worker)
    body = page(client_for(worker), reverse("residents:resident", args=[records.adult.pk]))
    assert "去世日期" in body
    assert "在住 → 已故" in body and "active" not in body.split("变更记录")[-1]


def test_the_party_page_pages_through_every_group(records):
    from residents.models import PartyGroup

    for n in range(35):
        group = PartyGroup(name=f"第{n:02d}党小组")
        group.locate(records.tree["DS0C0G0M0"])
        group.save()
    client = client_for(records.users["community_worker"])
    first = page(client, reverse("residents:party"))
    second = page(client, reverse("residents:party"), groups_page="2")
    assert "第00党小组" in first and "第34党小组" not in first
    assert "第34党小组" in second and "groups_page=2" in first


def test_a_bad_phone_is_refused_at_its_field(records):
    client = client_for(records.users["community_worker"])
    response = client.post(
        reverse("residents:resident_new", args=[records.house.pk]),
        {"name": "李电话", "phone": "12345", "relation": "other", "registration": "registered"},
    )
    assert response.status_code == 400
    assert "12345" in " ".join(response.context["form"].errors["phone"])
    assert not Resident.objects.filter(name="李电话").exists()
