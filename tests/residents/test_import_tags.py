"""The residents file's optional tags column: names matched to the district's and the community's tags."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import translation

from residents.imports import problems as p
from residents.models import ImportRow, ImportStatus, RecordChange, Resident, ResidentTag, Tag
from residents.models.imports import RowAction
from residents.services import resident_tag_add, tag_create, tag_set_active
from tests.residents.import_fixtures import (
    check,
    csv_bytes,
    id_number,
    place_fixture,  # noqa: F401 (the fixture `place`)
    run_import,
    upload,
)

pytestmark = pytest.mark.django_db

HEADER = ["姓名", "公民身份号码", "门牌", "标签"]
ADULT = id_number(date(1950, 3, 15), 131)
WIFE = id_number(date(1952, 7, 1), 142)


def tags_of(number: str) -> set[str]:
    resident = Resident.objects.get(id_number_hash=_hash(number))
    return set(ResidentTag.objects.filter(resident=resident).values_list("tag__name", flat=True))


def _hash(number: str) -> str:
    from governance.crypto import blind_index

    return blind_index("id", number)


def manual(number: str) -> set[str]:
    return tags_of(number) - {"60岁以上老人", "80岁以上高龄老人", "独居"}


def test_the_tags_column_is_suggested_and_its_names_are_given_with_history(place):
    tag_create(name="楼栋长", community=place.community, actor=place.users["secretary"])
    rows = [["王建国", ADULT, "MP-101", "退役军人;低保"], ["李秀英", WIFE, "MP-102", "楼栋长、 党员"]]
    job = check(place, upload(place, csv_bytes(HEADER, rows)))
    assert job.mapping["tags"] == "标签"
    assert job.summary["create"] == 2 and job.summary["problem_rows"] == 0
    planned = ImportRow.objects.get(job=job, row=2).detail["changes"]
    assert planned["tags"] == ["", "退役军人、低保"]
    job = run_import(place, job)
    assert job.status == ImportStatus.DONE, job.error
    assert manual(ADULT) == {"退役军人", "低保"}
    assert manual(WIFE) == {"楼栋长", "党员"}
    resident = Resident.objects.get(id_number_hash=_hash(ADULT))
    added = RecordChange.objects.filter(record_type="resident", record_id=resident.pk, action="tag_added")
    assert sorted(change.changes["tag"][1] for change in added) == ["低保", "退役军人"]
    assert {change.actor for change in added} == {place.users["worker"]}


def test_the_same_file_twice_changes_nothing_and_tags_on_record_stay(place):
    rows = [["王建国", ADULT, "MP-101", "退役军人"]]
    run_import(place, check(place, upload(place, csv_bytes(HEADER, rows))))
    resident = Resident.objects.get(id_number_hash=_hash(ADULT))
    resident_tag_add(resident=resident, tag=Tag.objects.get(code="dibao"), actor=place.users["worker"])
    history = RecordChange.objects.count()

    again = check(place, upload(place, csv_bytes(HEADER, rows)))
    assert again.summary["unchanged"] == 1 and again.summary["update"] == 0
    run_import(place, again)
    assert manual(ADULT) == {"退役军人", "低保"} and RecordChange.objects.count() == history

    more = check(place, upload(place, csv_bytes(HEADER, [["王建国", ADULT, "MP-101", "退役军人;失业人员"]])))
    assert more.summary["update"] == 1
    detail = ImportRow.objects.get(job=more, action=RowAction.UPDATE).detail["changes"]
    assert detail["tags"][1].endswith("失业人员") and "低保" in detail["tags"][0]
    run_import(place, more)
    assert manual(ADULT) == {"退役军人", "低保", "失业人员"}


def test_unknown_derived_retired_and_other_community_tags_are_row_problems_in_chinese(place):
    retired = tag_create(name="旧标签", community=place.community, actor=place.users["secretary"])
    tag_set_active(tag=retired, active=False, actor=place.users["secretary"])
    tag_create(name="外社区标签", community=place.tree["DS1C1"])
    rows = [
        ["王建国", ADULT, "MP-101", "退役军人;不存在的标签"],
        ["李秀英", WIFE, "MP-102", "独居"],
        ["王磊", id_number(date(1978, 11, 30), 173), "MP-103", "旧标签"],
        ["王芳", id_number(date(1979, 1, 2), 182), "MP-103", "外社区标签"],
    ]
    job = check(place, upload(place, csv_bytes(HEADER, rows)))
    problems = {row.row: row for row in ImportRow.objects.filter(job=job, action=RowAction.PROBLEM)}
    assert {row: problem.code for row, problem in problems.items()} == {
        2: p.UNKNOWN_TAG,
        3: p.TAG_NOT_GIVEN,
        4: p.TAG_NOT_GIVEN,
        5: p.UNKNOWN_TAG,
    }
    with translation.override("zh-hans"):
        message = p.render(p.UNKNOWN_TAG, problems[2].detail["column"], problems[2].detail["params"])
        assert "不存在的标签" in message and "标签" in message
        assert not any("a" <= ch <= "z" for ch in message), message
        message = p.render(p.TAG_NOT_GIVEN, problems[3].detail["column"], problems[3].detail["params"])
        assert "独居" in message and not any("a" <= ch <= "z" for ch in message), message
    # All or nothing: no row of the file is written while one has a problem.
    assert not Resident.objects.filter(community=place.community).exists()
