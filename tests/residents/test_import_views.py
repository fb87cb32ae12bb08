"""The import pages: upload → mapping → dry-run report (grouped, paged) → progress → import → summary."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from residents.imports import jobs
from residents.models import ImportJob, ImportStatus, Resident
from tests.residents.import_fixtures import (
    RESIDENT_HEADER,
    check,
    csv_bytes,
    place_fixture,  # noqa: F401 (the fixture `place`)
    run_import,
    upload,
)
from tests.residents.test_import_jobs import ADULT, good_rows, problem_file

pytestmark = pytest.mark.django_db


def login(client, place, user="worker"):
    client.force_login(place.users[user])
    return client


def post_upload(client, place, content: bytes, name="居民.csv"):
    return client.post(
        reverse("imports:upload"),
        {"kind": "resident", "community": place.community.pk, "file": SimpleUploadedFile(name, content)},
    )


def test_the_upload_page_is_for_the_communitys_record_keepers(client, place):
    assert client.get(reverse("imports:upload")).status_code == 302  # log in first
    for user in ("grid_worker", "street", "resident"):
        assert login(client, place, user).get(reverse("imports:upload")).status_code == 403, user
    page = login(client, place).get(reverse("imports:upload"))
    assert page.status_code == 200
    assert "智能导人" in page.content.decode()
    options = page.context["form"].fields["community"].queryset
    assert list(options) == [place.community]


def test_the_whole_flow_through_the_pages(client, place, django_assert_max_num_queries):
    login(client, place)
    response = post_upload(client, place, csv_bytes(RESIDENT_HEADER, good_rows()))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("imports:mapping", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert 'value="公民身份号码" selected' in page  # the proposed mapping
    assert "139******01" in page and "13912340001" not in page  # the sample column is masked
    mapping = {name: column for name, column in job.mapping.items()}
    response = client.post(reverse("imports:mapping", args=[job.pk]), mapping)
    assert response["Location"] == reverse("imports:detail", args=[job.pk])
    running = client.get(response["Location"]).content.decode()
    assert 'hx-get="{}"'.format(reverse("imports:progress", args=[job.pk])) in running
    assert "<progress" in running
    assert "HX-Refresh" not in client.get(reverse("imports:progress", args=[job.pk]))
    jobs.import_job_run(job_id=job.pk)
    assert client.get(reverse("imports:progress", args=[job.pk]))["HX-Refresh"] == "true"
    with django_assert_max_num_queries(12):
        report = client.get(reverse("imports:detail", args=[job.pk]) + "?show=create").content.decode()
    assert '王**</span> <span class="masked">370' in report and "导入：写入 3 行" in report
    assert Resident.objects.filter(community=place.community).count() == 0
    client.post(reverse("imports:start", args=[job.pk]))
    jobs.import_job_run(job_id=job.pk)
    done = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "已在一个事务中导入：新建 3 条，更新 0 条，未变 0 条。" in done
    assert Resident.objects.filter(community=place.community).count() == 3
    log = client.get(reverse("imports:upload")).content.decode()
    assert "居民.csv" in log and "已导入" in log


def test_the_report_groups_problems_and_offers_no_import(client, place):
    login(client, place)
    post_upload(client, place, problem_file())
    job = ImportJob.objects.get()
    client.post(reverse("imports:mapping", args=[job.pk]), job.mapping)
    jobs.import_job_run(job_id=job.pk)
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "身份证号无效" in page and "房屋不存在" in page and "文件内重复" in page
    assert f"imports/{job.pk}/import/" not in page  # no import button
    dates = client.get(reverse("imports:detail", args=[job.pk]) + "?show=bad_date").content.decode()
    assert "迁入日期“1990-13-45”不是日期" in dates
    refused = client.post(reverse("imports:start", args=[job.pk]), follow=True).content.decode()
    assert "预检发现 9 行有问题" in refused
    assert ImportJob.objects.get().status == ImportStatus.CHECKED


def test_the_all_problems_tab_counts_problems_and_the_figure_counts_rows(client, place):
    rows = good_rows()
    rows[0][3] = "12345"  # invalid phone
    rows[0][7] = "去年春天"  # and an unparseable date: one row, two problems
    rows[1][4] = "MP-999"  # unknown house
    job = check(place, upload(place, csv_bytes(RESIDENT_HEADER, rows)))
    assert job.summary["problem_rows"] == 2
    page = login(client, place).get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "<b>2</b><span>行有问题</span>" in page
    assert '全部问题 <span class="badge text-bg-light">3</span>' in page  # as many as the lines it lists
    assert page.count('<td class="num">2</td>') == 2 and page.count('<td class="num">3</td>') == 1
    for title in ("电话号码无效", "日期无法识别", "房屋不存在"):
        assert f'{title} <span class="badge text-bg-light">1</span>' in page, title


def test_a_check_with_nothing_to_write_offers_no_import(client, place):
    content = csv_bytes(RESIDENT_HEADER, good_rows())
    run_import(place, check(place, upload(place, content)))
    again = check(place, upload(place, content, name="居民(再次).csv"))
    assert again.status == ImportStatus.CHECKED
    page = login(client, place).get(reverse("imports:detail", args=[again.pk])).content.decode()
    assert "没有需要写入的内容" in page
    assert reverse("imports:start", args=[again.pk]) not in page and "导入：写入" not in page
    assert "请在文件中更正" not in page  # nor the advice for a file with problems


def test_masked_id_numbers_in_the_report_keep_together(client, place):
    job = check(place, upload(place, csv_bytes(RESIDENT_HEADER, good_rows())))
    page = login(client, place).get(reverse("imports:detail", args=[job.pk]) + "?show=create").content.decode()
    assert f'<span class="masked">王**</span> <span class="masked">370*************{ADULT[-2:]}</span>' in page


def test_a_bad_mapping_is_explained_on_the_mapping_page(client, place):
    login(client, place)
    post_upload(client, place, csv_bytes(RESIDENT_HEADER, good_rows()))
    job = ImportJob.objects.get()
    page = client.post(reverse("imports:mapping", args=[job.pk]), {"name": "姓名", "phone": "姓名"}).content.decode()
    assert "缺少必填列：身份证号" in page and "“姓名”列对应了多个字段" in page
    assert ImportJob.objects.get().status == ImportStatus.MAPPING


def test_an_unreadable_upload_is_refused_in_chinese(client, place):
    login(client, place)
    page = post_upload(client, place, b"\xd0\xcf\x11\xe0" + b"\0" * 64, name="old.xls").content.decode()
    assert "不支持旧版 Excel .xls 文件" in page or "请上传 .xlsx 或 .csv 文件" in page
    assert not ImportJob.objects.exists()


def test_another_communitys_import_is_not_found(client, place):
    login(client, place)
    post_upload(client, place, csv_bytes(RESIDENT_HEADER, good_rows()))
    job = ImportJob.objects.get()
    login(client, place, "other_worker")
    for name in ("detail", "mapping", "progress"):
        assert client.get(reverse(f"imports:{name}", args=[job.pk])).status_code == 404, name
    assert client.post(reverse("imports:start", args=[job.pk])).status_code == 404
