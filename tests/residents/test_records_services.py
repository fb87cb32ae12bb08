"""Residents' services: validation with Chinese messages, history, living alone, derived tags, purge."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.utils import timezone, translation

from governance.errors import Conflict, DomainError, Forbidden
from residents.models import RecordChange, Resident, ResidentStatus, ResidentTag, Tag
from residents.services import (
    house_update,
    resident_create,
    resident_move_away,
    resident_tag_add,
    resident_update,
    residents_purge_expired,
)
from residents.tasks import purge_moved_away
from tests.residents import records_fixtures

records = records_fixtures.records


def tag_codes(resident: Resident) -> set[str]:
    return set(ResidentTag.objects.filter(resident=resident).values_list("tag__code", flat=True))


def test_the_id_number_fills_birth_date_and_gender_and_the_level_columns_follow_the_house(records):
    adult = records.adult
    assert adult.birth_date == date(1950, 3, 15) and adult.gender == "male"
    assert adult.microgrid_id == records.tree["DS0C0G0M0"].pk
    assert adult.grid_id == records.tree["DS0C0G0"].pk
    assert adult.community_id == records.tree["DS0C0"].pk
    assert adult.street_id == records.tree["DS0"].pk
    assert adult.area_path == records.tree["DS0C0G0M0"].path
    assert records.house.community_id == records.tree["DS0C0"].pk


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "  "}, "姓名"),
        ({"name": "张三", "id_number": "110105194912310021"}, "校验"),
        ({"name": "张三", "phone": "12345"}, "电话"),
        ({"name": "张三", "id_number": "11010519491231002X", "birth_date": date(1950, 1, 1)}, "出生日期"),
        ({"name": "张三", "birth_date": date.today() + timedelta(days=3)}, "出生日期"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_nothing_is_written(records, fields, message):
    before = Resident.objects.count(), RecordChange.objects.count()
    with translation.override("zh-hans"), pytest.raises(DomainError) as error:
        resident_create(house=records.house, **fields)
    assert message in error.value.message, error.value.message
    assert (Resident.objects.count(), RecordChange.objects.count()) == before


def test_one_active_record_per_id_number(records):
    with pytest.raises(Conflict):
        resident_create(house=records.other_house, name="王建国", id_number=records.adult.id_number)
    resident_move_away(resident=records.adult, on=timezone.localdate())
    again = resident_create(house=records.other_house, name="王建国", id_number=records.adult.id_number)
    assert again.status == ResidentStatus.ACTIVE


def test_every_change_is_history_without_the_secret_values(records):
    user = records.users["grid_worker"]
    resident_update(resident=records.adult, actor=user, phone="13800001111", notes="腿脚不便")
    change = RecordChange.objects.filter(record_type="resident", record_id=records.adult.pk).order_by("-at").first()
    assert change.action == "updated" and change.actor == user
    assert change.changes["phone"] == ["*", "*"]
    assert change.changes["notes"] == ["", "腿脚不便"]
    assert "13800001111" not in str(RecordChange.objects.values_list("changes", flat=True)[::1])


def test_edits_are_refused_outside_the_actors_area_or_role(records):
    with pytest.raises(Forbidden):
        resident_update(resident=records.outsider, actor=records.users["grid_worker"], notes="x")
    with pytest.raises(Forbidden):
        resident_update(resident=records.adult, actor=records.users["street_command"], notes="x")
    with pytest.raises(Forbidden):
        house_update(house=records.house, actor=records.users["microgrid_head"], use="rented")
    house_update(house=records.house, actor=records.users["community_worker"], use="group_rental")
    records.house.refresh_from_db()
    assert records.house.use == "group_rental"


def test_living_alone_and_derived_tags_follow_the_house(records):
    house = records.other_house
    assert Resident.objects.get(pk=records.outsider.pk).living_alone
    elder = resident_create(house=house, name="李奶奶", birth_date=date(1938, 5, 1))
    assert not elder.living_alone
    assert {"elderly_60", "elderly_80"} <= tag_codes(elder)
    resident_move_away(resident=records.outsider, on=timezone.localdate())
    elder.refresh_from_db()
    assert elder.living_alone and "living_alone" in tag_codes(elder)
    assert "living_alone" not in tag_codes(records.outsider)  # moved away: no derived tags


def test_manual_tags_only_by_hand_and_derived_ones_never(records):
    veteran = Tag.objects.get(code="veteran", community=None)
    resident_tag_add(resident=records.adult, tag=veteran, actor=records.users["grid_worker"])
    assert "veteran" in tag_codes(records.adult)
    with pytest.raises(DomainError):
        resident_tag_add(resident=records.adult, tag=Tag.objects.get(code="elderly_80", community=None))


def test_the_purge_blanks_personal_data_after_the_retention_and_keeps_the_row(records, settings):
    settings.RESIDENT_MOVED_AWAY_RETENTION_DAYS = 30
    today = timezone.localdate()
    resident_update(resident=records.adult, actor=None, notes="电话13912340001")
    resident_move_away(resident=records.adult, on=today - timedelta(days=31))
    resident_move_away(resident=records.outsider, on=today - timedelta(days=5))

    assert purge_moved_away.apply().get() == 1

    purged = Resident.objects.get(pk=records.adult.pk)
    assert (purged.name, purged.id_number, purged.phone, purged.notes) == ("", "", "", "")
    assert purged.status == ResidentStatus.MOVED_AWAY and purged.purged_at is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM residents_resident WHERE id = %s", [purged.pk])
        assert cursor.fetchone() == ("", "")
    history = RecordChange.objects.filter(record_type="resident", record_id=purged.pk)
    assert history.filter(action="purged").exists() and history.count() >= 3
    assert "13912340001" not in str(list(history.values_list("changes", flat=True)))
    assert Resident.objects.get(pk=records.outsider.pk).name == "欧阳外街"  # not due yet
    assert residents_purge_expired() == 0  # idempotent


def test_no_purge_when_retention_is_zero(records, settings):
    settings.RESIDENT_MOVED_AWAY_RETENTION_DAYS = 0
    resident_move_away(resident=records.adult, on=date(2001, 1, 1))
    assert residents_purge_expired() == 0
