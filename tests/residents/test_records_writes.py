"""Staff create buildings and houses, move residents and keep the community's tags: scope, policy, audit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from residents.models import Building, House, RecordChange, Resident, ResidentTag, Tag
from residents.services import tag_create
from tests.residents import records_fixtures

records = records_fixtures.records


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def history(record, action: str = "") -> list[RecordChange]:
    rows = RecordChange.objects.filter(record_type=record._meta.model_name, record_id=record.pk)
    return list(rows.filter(action=action) if action else rows)


BUILDING = {"code": "B-900", "name": "新楼", "address": "幸福路30号", "units": "2", "floors": "11", "notes": ""}


# --- buildings --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["grid_worker", "community_worker", "community_secretary", "administrator"])
def test_the_record_keepers_create_a_building_in_their_area_with_its_history(records, role):
    user = records.users[role]
    response = client_for(user).post(
        reverse("residents:building_new"), {**BUILDING, "microgrid": records.tree["DS0C0G0M0"].pk}
    )
    assert response.status_code == 302
    building = Building.objects.get(code="B-900")
    assert response["Location"] == reverse("residents:building", args=[building.pk])
    assert (building.units, building.floors, building.community_id) == (2, 11, records.tree["DS0C0"].pk)
    [created] = history(building, "created")
    assert created.actor == user


@pytest.mark.parametrize("role", ["microgrid_head", "street_command", "district_centre", "department_handler"])
def test_roles_that_do_not_keep_records_cannot_create_buildings_or_houses(records, role):
    client = client_for(records.users[role])
    for name in ("building_new", "house_new"):
        assert client.get(reverse(f"residents:{name}")).status_code == 403
    response = client.post(reverse("residents:building_new"), {**BUILDING, "microgrid": records.tree["DS0C0G0M0"].pk})
    assert response.status_code == 403 and not Building.objects.filter(code="B-900").exists()


def test_a_micro_grid_outside_ones_area_is_not_offered_and_not_accepted(records):
    client = client_for(records.users["grid_worker"])  # grid DS0C0G0
    body = client.get(reverse("residents:building_new")).content.decode()
    assert f'value="{records.tree["DS0C0G0M0"].pk}"' in body
    assert f'value="{records.tree["DS0C0G1M0"].pk}"' not in body  # the other grid of the community
    response = client.post(reverse("residents:building_new"), {**BUILDING, "microgrid": records.tree["DS1C1G1M1"].pk})
    assert response.status_code == 400 and not Building.objects.filter(code="B-900").exists()


def test_bad_building_input_says_why_in_chinese_and_keeps_what_was_typed(records):
    client = client_for(records.users["community_worker"])
    data = {**BUILDING, "microgrid": records.tree["DS0C0G0M0"].pk, "units": "0", "name": "我填的楼名"}
    response = client.post(reverse("residents:building_new"), data)
    body = response.content.decode()
    assert response.status_code == 400 and "我填的楼名" in body and "请修正" in body
    response = client.post(reverse("residents:building_new"), {**data, "units": "2", "code": "B-001"})
    assert response.status_code == 400 and "已存在" in response.content.decode()
    assert Building.objects.filter(name="我填的楼名").count() == 0


# --- houses -----------------------------------------------------------------------------------------


def test_a_house_is_added_to_a_building_in_its_micro_grid(records):
    client = client_for(records.users["community_worker"])
    url = reverse("residents:house_new") + f"?building={records.building.pk}"
    assert "幸福路12号楼" in client.get(url).content.decode()
    data = {
        "address": "幸福路12号1单元102",
        "doorplate_code": "MP-102",
        "building": records.building.pk,
        "unit": "1",
        "floor": "1",
        "room": "102",
        "use": "group_rental",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    house = House.objects.get(doorplate_code="MP-102")
    assert house.microgrid_id == records.building.microgrid_id and house.use == "group_rental"
    assert history(house, "created")[0].actor == records.users["community_worker"]
    again = client.post(url, {**data, "doorplate_code": "MP-103"})
    assert again.status_code == 400 and "已存在" in again.content.decode()


def test_a_house_without_building_needs_its_micro_grid(records):
    client = client_for(records.users["community_secretary"])
    data = {"address": "幸福路40号", "use": "shop"}
    response = client.post(reverse("residents:house_new"), data)
    assert response.status_code == 400 and "请选择微网格" in response.content.decode()
    response = client.post(reverse("residents:house_new"), {**data, "microgrid": records.tree["DS0C0G1M1"].pk})
    assert response.status_code == 302
    assert House.objects.get(address="幸福路40号").microgrid == records.tree["DS0C0G1M1"]


def test_a_building_of_another_street_cannot_take_a_house(records):
    client = client_for(records.users["community_worker"])
    outside = Building.objects.create(
        code="OUT-1", name="外楼", address="外", microgrid=records.tree["DS1C1G1M1"], area_path="x"
    )
    outside.locate(records.tree["DS1C1G1M1"])
    outside.save()
    assert client.get(reverse("residents:house_new") + f"?building={outside.pk}").status_code == 404


# --- moving a resident -----------------------------------------------------------------------------


def test_a_resident_moves_to_another_house_keeping_the_record_and_its_history(records):
    new_house = records.other_house.__class__.objects.create(
        address="幸福路12号2单元201", address_key="幸福路12号2单元201", microgrid=records.tree["DS0C0G0M1"]
    )
    client = client_for(records.users["community_worker"])
    url = reverse("residents:resident_move", args=[records.adult.pk])
    assert client.get(url).status_code == 200
    on = date.today() - timedelta(days=3)
    response = client.post(url, {"house": "幸福路12号 2单元201", "on": on.isoformat(), "note": "换房"})
    assert response.status_code == 302
    adult = Resident.objects.get(pk=records.adult.pk)
    assert adult.house == new_house and adult.moved_in_on == on and adult.status == "active"
    assert adult.microgrid_id == records.tree["DS0C0G0M1"].pk and adult.living_alone
    [moved] = [change for change in history(adult, "updated") if "house" in change.changes]
    assert moved.changes["house"] == ["幸福路12号1单元101", "幸福路12号2单元201"] and moved.note == "换房"
    assert moved.actor == records.users["community_worker"]
    assert any("resident_out" in change.changes for change in history(records.house))
    assert any("resident_in" in change.changes for change in history(new_house))
    assert "幸福路12号2单元201" in client.get(reverse("residents:resident", args=[adult.pk])).content.decode()


def test_a_move_to_an_unknown_or_outside_house_or_a_future_date_is_refused_in_chinese(records):
    client = client_for(records.users["community_worker"])
    url = reverse("residents:resident_move", args=[records.adult.pk])
    before = RecordChange.objects.count()
    outside = client.post(url, {"house": "和平路8号2单元202", "on": "2020-01-01"})  # the other street's house
    assert outside.status_code == 400 and "辖区内没有房屋" in outside.content.decode()
    future = client.post(url, {"house": "幸福路12号1单元101", "on": (date.today() + timedelta(days=2)).isoformat()})
    assert future.status_code == 400 and "将来" in future.content.decode()
    same = client.post(url, {"house": "幸福路12号1单元101", "on": "2020-01-01"})
    assert same.status_code == 400 and "已住在这处房屋" in same.content.decode()
    assert RecordChange.objects.count() == before
    assert Resident.objects.get(pk=records.adult.pk).house == records.house


def test_a_minors_move_needs_a_secretary(records):
    House.objects.create(address="幸福路50号", address_key="幸福路50号", microgrid=records.tree["DS0C0G0M0"])
    url = reverse("residents:resident_move", args=[records.minor.pk])
    data = {"house": "幸福路50号", "on": date.today().isoformat()}
    assert client_for(records.users["community_worker"]).post(url, data).status_code == 404
    assert client_for(records.users["grid_worker"]).get(url).status_code == 404
    assert client_for(records.users["community_secretary"]).post(url, data).status_code == 302
    assert Resident.objects.get(pk=records.minor.pk).house.address == "幸福路50号"


@pytest.mark.parametrize("role", ["microgrid_head", "street_command"])
def test_overseers_cannot_move_a_resident(records, role):
    url = reverse("residents:resident_move", args=[records.adult.pk])
    assert client_for(records.users[role]).post(url, {"house": "x", "on": "2020-01-01"}).status_code == 403


def test_a_resident_who_moved_away_cannot_be_moved(records):
    client = client_for(records.users["community_worker"])
    leave = client.post(
        reverse("residents:resident_leave", args=[records.adult.pk]),
        {"status": "moved_away", "on": date.today().isoformat()},
    )
    assert leave.status_code == 302
    assert client.get(reverse("residents:resident_move", args=[records.adult.pk])).status_code == 403


# --- tags -------------------------------------------------------------------------------------------


def test_a_secretary_adds_a_community_tag_with_its_audit_row(records):
    client = client_for(records.users["community_secretary"])
    response = client.post(reverse("residents:tags"), {"name": "楼栋长", "description": "各楼栋联系人"})
    assert response.status_code == 302
    tag = Tag.objects.get(name="楼栋长")
    assert tag.community == records.tree["DS0C0"] and tag.kind == "manual" and tag.is_active
    [created] = history(tag, "created")
    assert created.actor == records.users["community_secretary"]
    body = client.get(reverse("residents:tags")).content.decode()
    assert "楼栋长" in body and "各楼栋联系人" in body


def test_a_tag_name_already_used_is_refused_in_chinese(records):
    client = client_for(records.users["community_secretary"])
    response = client.post(reverse("residents:tags"), {"name": "退役军人"})  # a district-wide tag
    assert response.status_code == 400 and "已有名为" in response.content.decode()
    response = client.post(reverse("residents:tags"), {"name": "甲;乙"})
    assert response.status_code == 400 and "分隔" in response.content.decode()
    assert not Tag.objects.filter(community=records.tree["DS0C0"]).exists()


@pytest.mark.parametrize("role", ["grid_worker", "community_worker", "street_command", "microgrid_head"])
def test_other_roles_see_the_tags_but_do_not_manage_them(records, role):
    tag = tag_create(name="楼栋长", community=records.tree["DS0C0"])
    client = client_for(records.users[role])
    body = client.get(reverse("residents:tags")).content.decode()
    assert "楼栋长" in body and "退役军人" in body and 'name="name"' not in body
    assert client.post(reverse("residents:tags"), {"name": "新标签"}).status_code == 403
    assert client.post(reverse("residents:tag_active", args=[tag.pk]), {"active": "0"}).status_code == 403
    assert Tag.objects.get(pk=tag.pk).is_active and not Tag.objects.filter(name="新标签").exists()


def test_another_communitys_tags_are_neither_listed_nor_reachable(records):
    outside = tag_create(name="外社区标签", community=records.tree["DS1C1"])
    client = client_for(records.users["community_secretary"])
    assert "外社区标签" not in client.get(reverse("residents:tags")).content.decode()
    assert client.post(reverse("residents:tag_active", args=[outside.pk]), {"active": "0"}).status_code == 404
    assert client_for(records.users["department_handler"]).get(reverse("residents:tags")).status_code == 403


def test_district_tags_are_read_only_for_a_community(records):
    client = client_for(records.users["community_secretary"])
    veteran = Tag.objects.get(code="veteran")
    assert client.post(reverse("residents:tag_active", args=[veteran.pk]), {"active": "0"}).status_code == 403
    assert Tag.objects.get(pk=veteran.pk).is_active
    admin = client_for(records.users["administrator"])
    assert admin.post(reverse("residents:tag_active", args=[veteran.pk]), {"active": "0"}).status_code == 302
    assert not Tag.objects.get(pk=veteran.pk).is_active


def test_a_retired_tag_stays_on_its_residents_but_is_no_longer_given(records):
    tag = tag_create(name="楼栋长", community=records.tree["DS0C0"])
    client = client_for(records.users["community_secretary"])
    tags_url = reverse("residents:resident_tags", args=[records.adult.pk])
    assert client.post(tags_url, {"tag": tag.pk}).status_code == 302
    assert client.post(reverse("residents:tag_active", args=[tag.pk]), {"active": "0"}).status_code == 302
    tag.refresh_from_db()
    assert not tag.is_active and history(tag, "updated")[0].changes == {"is_active": [True, False]}
    assert ResidentTag.objects.filter(resident=records.adult, tag=tag).exists()
    other = records_fixtures.Resident.objects.get(pk=records.minor.pk)
    response = client.post(reverse("residents:resident_tags", args=[other.pk]), {"tag": tag.pk})
    assert response.status_code == 400 and not ResidentTag.objects.filter(resident=other, tag=tag).exists()
    assert f'value="{tag.pk}"' not in client.get(reverse("residents:resident", args=[other.pk])).content.decode()
    assert client.post(reverse("residents:tag_active", args=[tag.pk]), {"active": "1"}).status_code == 302
    assert Tag.objects.get(pk=tag.pk).is_active


def test_tagging_from_the_resident_page_is_audited(records):
    client = client_for(records.users["grid_worker"])
    veteran = Tag.objects.get(code="veteran")
    url = reverse("residents:resident_tags", args=[records.adult.pk])
    assert client.post(url, {"tag": veteran.pk, "note": "2019年退役"}).status_code == 302
    assert client.post(url, {"remove": veteran.pk}).status_code == 302
    actions = [change.action for change in history(records.adult) if change.action.startswith("tag_")]
    assert sorted(actions) == ["tag_added", "tag_removed"]
    assert not ResidentTag.objects.filter(resident=records.adult, tag=veteran).exists()


def test_the_services_refuse_on_their_own_whatever_the_page_offers(records):
    from governance.errors import Forbidden
    from residents.services import resident_move, tag_set_active

    with pytest.raises(Forbidden):
        tag_create(name="楼栋长", community=records.tree["DS0C0"], actor=records.users["community_worker"])
    with pytest.raises(Forbidden):
        tag_create(name="全区新标签", community=None, actor=records.users["community_secretary"])
    with pytest.raises(Forbidden):
        tag_set_active(tag=Tag.objects.get(code="dibao"), active=False, actor=records.users["community_secretary"])
    with pytest.raises(Forbidden):
        resident_move(
            resident=records.adult, house=records.other_house, on=date.today(), actor=records.users["community_worker"]
        )
    with pytest.raises(Forbidden):
        resident_move(
            resident=records.adult, house=records.house, on=date.today(), actor=records.users["street_command"]
        )
    assert Resident.objects.get(pk=records.adult.pk).house == records.house


def test_the_tags_page_costs_the_same_few_queries_however_many_tags(records, django_assert_max_num_queries):
    client = client_for(records.users["community_secretary"])
    client.get(reverse("residents:tags"))
    for n in range(20):
        tag_create(name=f"标签{n}", community=records.tree["DS0C0"])
    with django_assert_max_num_queries(14):
        body = client.get(reverse("residents:tags")).content.decode()
    assert "标签19" in body
