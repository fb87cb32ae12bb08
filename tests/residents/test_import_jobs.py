"""The import services: the dry run writes nothing, every problem in Chinese, all or nothing, idempotent."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import translation

from governance.crypto import blind_index
from governance.errors import DomainError, Forbidden
from residents.imports import jobs
from residents.imports import problems as p
from residents.models import Building, House, ImportMapping, ImportRow, ImportStatus, RecordChange, Resident
from residents.models.imports import RowAction
from tests.residents.import_fixtures import (
    RESIDENT_HEADER,
    check,
    csv_bytes,
    id_number,
    place_fixture,  # noqa: F401 (the fixture `place`)
    run_import,
    upload,
)

pytestmark = pytest.mark.django_db

ADULT = id_number(date(1950, 3, 15), 131)
WIFE = id_number(date(1952, 7, 1), 142)
SON = id_number(date(1978, 11, 30), 173)


def good_rows() -> list[list[str]]:
    return [
        ["王建国", ADULT, "男", "13912340001", "MP-101", "户主", "户籍", "1990-05-01", ""],
        ["李秀英", WIFE, "女", "13912340002", "MP-101", "配偶", "户籍", "1990/5/1", ""],
        ["王磊", SON, "", "", "MP-102", "子女", "流动", "", "独居"],
    ]


def counts() -> tuple[int, int]:
    return Resident.objects.count(), RecordChange.objects.count()


def test_the_dry_run_writes_nothing_and_lists_what_it_would_create(place):
    before = counts()
    job = check(place, upload(place, csv_bytes(RESIDENT_HEADER, good_rows())))
    assert job.status == ImportStatus.CHECKED
    assert job.summary["rows"] == 3 and job.summary["create"] == 3 and job.summary["problem_rows"] == 0
    assert counts() == before
    rows = ImportRow.objects.filter(job=job, action=RowAction.CREATE).order_by("row")
    assert [row.row for row in rows] == [2, 3, 4]
    assert rows[0].label == "王** 370*************" + ADULT[-2:]  # masked in the report
    assert "13912340001" not in str(list(rows.values_list("detail", flat=True)))


def problem_file() -> bytes:
    return csv_bytes(
        RESIDENT_HEADER,
        [
            ["甲", "370203195003151319", "", "", "MP-101", "", "", "", ""],  # wrong check character
            ["乙", ADULT, "", "", "MP-999", "", "", "", ""],  # unknown house
            ["丙", WIFE, "", "", "MP-101", "", "", "1990-13-45", ""],  # unparseable date
            ["丁", WIFE, "", "", "MP-101", "", "", "", ""],  # duplicate in the file (row 4)
            ["戊", SON, "", "12345", "MP-102", "", "", "", ""],  # invalid phone
            ["己", id_number(date(1980, 5, 5), 555), "", "", "MP-103", "", "", "", ""],  # in another community
            ["", id_number(date(1990, 1, 1), 191), "", "", "MP-103", "", "", "", ""],  # name missing
            ["庚", id_number(date(1991, 2, 2), 211), "女", "", "MP-103", "", "", "", ""],  # gender mismatch
            ["辛", id_number(date(1992, 3, 3), 231), "", "", "MP-103", "邻居", "", "", ""],  # unknown relation
        ],
    )


def test_each_problem_is_reported_in_chinese_and_nothing_can_be_imported(place):
    job = check(place, upload(place, problem_file()))
    assert job.status == ImportStatus.CHECKED
    by_code = {row.code: row for row in ImportRow.objects.filter(job=job, action=RowAction.PROBLEM)}
    expected = {
        p.INVALID_ID_NUMBER: (2, "校验码"),
        p.UNKNOWN_HOUSE: (3, "没有房屋"),
        p.BAD_DATE: (4, "不是日期"),
        p.DUPLICATE_IN_FILE: (5, "第4行"),
        p.INVALID_PHONE: (6, "电话号码"),
        p.OUT_OF_SCOPE: (7, "其他社区"),
        p.MISSING_VALUE: (8, "姓名"),
        p.ID_MISMATCH: (9, "身份证号"),
        p.BAD_CHOICE: (10, "户主"),
    }
    assert set(by_code) == set(expected)
    with translation.override("zh-hans"):
        for code, (row, words) in expected.items():
            message = p.render(code, by_code[code].detail["column"], by_code[code].detail["params"])
            assert by_code[code].row == row, (code, message)
            assert words in message, (code, message)
            assert not any("a" <= ch <= "z" for ch in message.replace("MP-", "")), message  # no English left
    assert job.summary["problem_rows"] == 9
    with pytest.raises(DomainError) as refused:
        jobs.import_job_start(actor=place.users["worker"], job=job)
    assert refused.value.code == "rows_failed"
    assert Resident.objects.filter(community=place.community).count() == 0


def test_a_missing_required_column_is_a_file_level_problem(place):
    job = upload(place, csv_bytes(["姓名", "门牌"], [["张三", "MP-101"]]))
    with pytest.raises(DomainError) as error, translation.override("zh-hans"):
        jobs.import_job_map(actor=place.users["worker"], job=job, mapping=job.mapping)
    assert error.value.code == "bad_mapping"
    assert "身份证号" in error.value.message


def test_the_import_writes_everything_through_records_history_and_encryption(place):
    job = run_import(place, check(place, upload(place, csv_bytes(RESIDENT_HEADER, good_rows()))))
    assert job.status == ImportStatus.DONE, job.error_message
    assert job.summary["written"] == {"created": 3, "updated": 0}
    assert job.content == b""
    wang = Resident.objects.get(id_number_hash=blind_index("id", ADULT))
    assert (wang.name, wang.gender, wang.birth_date, wang.phone) == ("王建国", "male", date(1950, 3, 15), "13912340001")
    assert wang.relation == "householder" and wang.moved_in_on == date(1990, 5, 1)
    assert wang.community_id == place.community.pk and wang.microgrid_id == place.tree["DS0C0G0M0"].pk
    son = Resident.objects.get(id_number_hash=blind_index("id", SON))
    assert son.registration == "floating" and son.living_alone  # records' derived value followed
    assert son.tags.filter(tag__code="living_alone").exists()
    assert set(wang.tags.values_list("tag__code", flat=True)) == {"elderly_60"}  # records' derived tags
    history = RecordChange.objects.filter(record_type="resident", record_id=wang.pk)
    assert [change.action for change in history] == ["imported"]
    assert history[0].actor == place.users["worker"] and "居民.csv" in history[0].note
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM residents_resident WHERE id = %s", [wang.pk])
        raw = cursor.fetchone()
    assert ADULT not in raw[0] and "13912340001" not in raw[1]


def test_the_same_file_twice_changes_nothing(place):
    content = csv_bytes(RESIDENT_HEADER, good_rows())
    run_import(place, check(place, upload(place, content)))
    before = counts()
    again = check(place, upload(place, content, name="居民(再次).csv"))
    assert (again.summary["create"], again.summary["update"], again.summary["unchanged"]) == (0, 0, 3)
    again = run_import(place, again)
    assert again.status == ImportStatus.DONE
    assert again.summary["written"] == {"created": 0, "updated": 0}
    assert counts() == before


def test_a_changed_row_is_an_update_with_its_changed_fields(place):
    run_import(place, check(place, upload(place, csv_bytes(RESIDENT_HEADER, good_rows()))))
    rows = good_rows()
    rows[0][3] = "13800001111"  # new phone
    rows[0][4] = "MP-103"  # moved house
    job = check(place, upload(place, csv_bytes(RESIDENT_HEADER, rows)))
    assert (job.summary["create"], job.summary["update"], job.summary["unchanged"]) == (0, 1, 2)
    change = ImportRow.objects.get(job=job, action=RowAction.UPDATE)
    assert change.row == 2
    assert change.detail["changes"] == {
        "phone": ["139******01", "138******11"],
        "house_id": ["幸福路12号1单元101", "幸福路12号1单元103"],
    }
    run_import(place, job)
    wang = Resident.objects.get(id_number_hash=blind_index("id", ADULT))
    assert wang.phone == "13800001111" and wang.house.doorplate_code == "MP-103"
    assert RecordChange.objects.filter(record_type="resident", record_id=wang.pk, action="updated").count() == 1


def test_it_is_all_or_nothing_when_a_write_fails(place, monkeypatch):
    job = check(place, upload(place, csv_bytes(RESIDENT_HEADER, good_rows())))
    before = counts()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("residents.imports.writers._derived_tags", broken)
    job = run_import(place, job)
    assert job.status == ImportStatus.FAILED and job.error_code == "import_failed"
    assert counts() == before  # the residents inserted before the failure were rolled back


def test_rows_that_went_wrong_since_the_dry_run_stop_the_whole_import(place):
    job = check(place, upload(place, csv_bytes(RESIDENT_HEADER, good_rows())))
    from residents.services import resident_create

    # Someone records the wife in the other street's community after the dry run.
    resident_create(house=place.other_house, name="李秀英", id_number=WIFE)
    before = counts()
    job = run_import(place, job)
    assert job.status == ImportStatus.FAILED and job.error_code == "rows_failed"
    assert counts() == before
    assert ImportRow.objects.filter(job=job, code=p.OUT_OF_SCOPE).count() == 1


def test_the_mapping_is_remembered_for_the_community(place):
    header = ["住户姓名", "证件", "房号编码"]
    content = csv_bytes(header, [["王建国", ADULT, "MP-101"]])
    first = upload(place, content)
    assert first.mapping == {}
    mapping = {"name": "住户姓名", "id_number": "证件", "house_code": "房号编码"}
    check(place, first, mapping)
    assert ImportMapping.objects.get(community=place.community, kind="resident").mapping == mapping
    second = upload(place, content, user="secretary")
    assert second.mapping == mapping


@pytest.mark.parametrize("user", ["grid_worker", "street", "other_worker", "resident"])
def test_only_the_communitys_record_keepers_import_into_it(place, user):
    with pytest.raises(Forbidden):
        upload(place, csv_bytes(RESIDENT_HEADER, good_rows()), user=user)


def test_jobs_are_seen_only_by_those_who_may_import_into_the_community(place):
    job = upload(place, csv_bytes(RESIDENT_HEADER, good_rows()))
    assert jobs.import_jobs_visible_to(place.users["secretary"]).filter(pk=job.pk).exists()
    assert jobs.import_jobs_visible_to(place.users["admin"]).filter(pk=job.pk).exists()
    for user in ("other_worker", "grid_worker", "street", "resident"):
        assert not jobs.import_jobs_visible_to(place.users[user]).filter(pk=job.pk).exists(), user


def test_houses_and_buildings_import_and_reimport(place):
    buildings = csv_bytes(
        ["楼栋编码", "楼栋名称", "单元数", "楼层数", "微网格"], [["B-002", "幸福路14号楼", "2", "7", "DS0C0G0M1"]]
    )
    job = run_import(place, check(place, upload(place, buildings, kind="building", name="楼栋.csv")))
    assert job.status == ImportStatus.DONE, job.error_message
    b2 = Building.objects.get(code="B-002")
    assert (b2.units, b2.floors, b2.microgrid_id, b2.community_id) == (
        2,
        7,
        place.tree["DS0C0G0M1"].pk,
        place.community.pk,
    )
    houses = csv_bytes(
        ["门牌编码", "地址", "楼栋编码", "单元", "楼层", "房号", "房屋用途"],
        [
            ["MP-201", "幸福路14号1单元201", "B-002", "1", "2", "201", "出租"],
            ["", "幸福路14号1单元202", "B-002", "1", "2", "202", "群租"],
            ["MP-101", "幸福路12号1单元101", "B-001", "1", "1", "101", "空置"],  # on record: use changes
            ["MP-301", "幸福路16号", "B-404", "", "", "", ""],  # unknown building
        ],
    )
    job = check(place, upload(place, houses, kind="house", name="房屋.csv"))
    assert (job.summary["create"], job.summary["update"], job.summary["problem_rows"]) == (2, 1, 1)
    assert ImportRow.objects.get(job=job, action=RowAction.PROBLEM).code == p.UNKNOWN_BUILDING
    ok = csv_bytes(
        ["门牌编码", "地址", "楼栋编码", "单元", "楼层", "房号", "房屋用途"],
        [
            ["MP-201", "幸福路14号1单元201", "B-002", "1", "2", "201", "出租"],
            ["", "幸福路14号1单元202", "B-002", "1", "2", "202", "群租"],
            ["MP-101", "幸福路12号1单元101", "B-001", "1", "1", "101", "空置"],
        ],
    )
    job = run_import(place, check(place, upload(place, ok, kind="house", name="房屋.csv")))
    assert job.status == ImportStatus.DONE, job.error_message
    assert House.objects.get(doorplate_code="MP-101").use == "vacant"
    group = House.objects.get(address="幸福路14号1单元202")
    assert group.use == "group_rental" and group.microgrid_id == place.tree["DS0C0G0M1"].pk
    again = check(place, upload(place, ok, kind="house", name="房屋.csv"))
    assert (again.summary["create"], again.summary["update"], again.summary["unchanged"]) == (0, 0, 3)


def test_a_house_address_owned_by_another_doorplate_is_a_duplicate(place):
    content = csv_bytes(["门牌编码", "地址"], [["MP-NEW", "幸福路12号1单元101"]])
    job = check(place, upload(place, content, kind="house"))
    row = ImportRow.objects.get(job=job, action=RowAction.PROBLEM)
    assert row.code == p.DUPLICATE_EXISTING
    with translation.override("zh-hans"):
        assert "MP-101" in p.render(row.code, row.detail["column"], row.detail["params"])


def test_a_new_housemate_ends_living_alone_of_the_resident_on_record(place):
    run_import(place, check(place, upload(place, csv_bytes(RESIDENT_HEADER, good_rows()))))
    son = Resident.objects.get(id_number_hash=blind_index("id", SON))
    assert son.living_alone
    mate = [["赵敏", id_number(date(1985, 4, 4), 242), "", "", "MP-102", "配偶", "", "", ""]]
    run_import(place, check(place, upload(place, csv_bytes(RESIDENT_HEADER, mate), name="新住户.csv")))
    son.refresh_from_db()
    assert not son.living_alone
    assert not son.tags.filter(tag__code="living_alone").exists()
    assert not Resident.objects.get(id_number_hash=blind_index("id", mate[0][1])).living_alone


def test_residents_imported_together_into_one_house_do_not_live_alone(place):
    pair = [
        ["赵敏", id_number(date(1985, 4, 4), 242), "", "", "MP-102", "配偶", "", "", ""],
        ["钱进", id_number(date(1984, 2, 2), 251), "", "", "MP-102", "户主", "", "", ""],
    ]
    run_import(place, check(place, upload(place, csv_bytes(RESIDENT_HEADER, pair), name="两口.csv")))
    for row in pair:
        resident = Resident.objects.get(id_number_hash=blind_index("id", row[1]))
        assert not resident.living_alone
        assert not resident.tags.filter(tag__code="living_alone").exists()


def test_the_mapping_queues_the_dry_run_after_commit_and_the_sweeper_resends_it(
    place, monkeypatch, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from residents.models import ImportJob

    published: list[int] = []
    monkeypatch.setattr(jobs, "_publish", published.append)  # the broker's side: what was sent
    job = upload(place, csv_bytes(RESIDENT_HEADER, good_rows()))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        jobs.import_job_map(actor=place.users["worker"], job=job, mapping=job.mapping)
        assert published == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    assert published == [job.pk]
    # The broker dropped it: queued five minutes ago, never started. The sweeper sends it again.
    ImportJob.objects.filter(pk=job.pk).update(queued_at=timezone.now() - timedelta(minutes=5))
    assert jobs.import_jobs_sweep() == 1 and published == [job.pk, job.pk]
    jobs.import_job_run(job_id=job.pk)
    assert jobs.import_job_run(job_id=job.pk) is None  # a second delivery finds nothing to claim
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED
    assert jobs.import_jobs_sweep() == 0
