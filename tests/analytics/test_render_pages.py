"""The report pages: an area's versions, generating with progress, one report, publishing, downloads."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse

from analytics.models import Report, ReportEvent, ReportState, ReportStatus
from tests.analytics.render_fixtures import FIGURES, make_report

pytestmark = pytest.mark.django_db


def test_a_report_page_shows_figures_rates_with_counts_formulas_and_footnoted_narrative(client, tree, street_command):
    report = make_report(tree["DS0"])
    client.force_login(street_command)
    response = client.get(reverse("analytics:detail", args=[report.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    body = response.content.decode()
    assert "1,164" in body and "99.03%" in body and "1,020" in body and "1,030" in body
    assert "+12.6%" in body  # month on month of the volume
    assert "+0.32" in body  # the response rate's change in percentage points
    assert "按时签收" in body  # the response rate's formula
    assert FIGURES["narrative"][0]["text"] in body
    assert 'href="#fn-1"' in body and 'id="fn-1"' in body
    assert 'id="report-charts"' in body and 'id="report-geo"' in body
    assert "<script>" not in body and " style=" not in body  # CSP: no inline code or styles


def test_the_map_links_each_grid_to_its_own_report_of_the_month(client, tree, district_centre):
    report = make_report(tree["D"])
    client.force_login(district_centre)
    geo = client.get(reverse("analytics:detail", args=[report.pk])).context["geo"]
    codes = {feature["properties"]["code"]: feature["properties"] for feature in geo["features"]}
    assert len(codes) == 8  # the factory's eight grids
    top = FIGURES["hotspots"]["grids"][0]
    assert codes[top["unit"]["code"]]["risk"] == top["risk"]
    assert codes[top["unit"]["code"]]["url"] == reverse("analytics:area_month", args=[top["unit"]["code"], "2026-11"])


def test_another_areas_report_is_not_found(client, tree, other_street_command, grid_worker_a):
    report = make_report(tree["DS0"])
    for user in (other_street_command, grid_worker_a):  # beside it, and below it
        client.force_login(user)
        for name in ("detail", "pdf", "xlsx", "progress"):
            assert client.get(reverse(f"analytics:{name}", args=[report.pk])).status_code == 404
        assert client.post(reverse("analytics:publish", args=[report.pk])).status_code == 404


def test_the_list_shows_the_areas_versions_by_month_and_what_changed(client, tree, street_command):
    make_report(tree["DS0"], version=1, published=True)
    make_report(
        tree["DS0"],
        version=2,
        changes={
            "previous_version": 1,
            "count": 3,
            "items": [{"ref": "volume.total.value", "before": 1160, "after": 1164}],
        },
    )
    make_report(tree["DS1"])
    client.force_login(street_command)
    response = client.get(reverse("analytics:area_reports", args=["DS0"]))
    assert response.status_code == 200
    assert response.context["count"] == 2
    assert [r.version for r in response.context["months"][0]["versions"]] == [2, 1]


def test_a_newer_version_shows_what_changed(client, tree, street_command):
    make_report(tree["DS0"], version=1, published=True)
    newer = make_report(
        tree["DS0"],
        version=2,
        changes={
            "previous_version": 1,
            "count": 1,
            "items": [{"ref": "volume.by_class[01].count.value", "before": 370, "after": 372}],
        },
    )
    client.force_login(street_command)
    response = client.get(reverse("analytics:detail", args=[newer.pk]))
    assert [(c.label, c.old, c.new) for c in response.context["changes"]][0][1:] == ("370", "372")
    assert "市容环境" in response.context["changes"][0].label


def test_generating_queues_a_new_version_and_the_progress_bar_follows_it(client, tree, community_secretary, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    client.force_login(community_secretary)
    response = client.post(reverse("analytics:generate", args=["DS0C0"]), {"month": "2026-10"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    report = Report.objects.get(area=tree["DS0C0"])
    assert (report.year, report.month, report.version) == (2026, 10, 1)
    assert b"<progress" in response.content and b"hx-get" in response.content
    Report.objects.filter(pk=report.pk).update(state=ReportState.RUNNING, progress=40)
    polled = client.get(reverse("analytics:progress", args=[report.pk]))
    assert b'value="40"' in polled.content
    Report.objects.filter(pk=report.pk).update(state=ReportState.READY, progress=100, figures=FIGURES)
    done = client.get(reverse("analytics:progress", args=[report.pk]))
    assert b"hx-get" not in done.content and reverse("analytics:detail", args=[report.pk]).encode() in done.content


def test_a_bad_month_is_refused_with_a_message_and_nothing_is_queued(client, tree, street_command):
    client.force_login(street_command)
    for month in ("2026-13", "soon", "2999-01"):
        response = client.post(reverse("analytics:generate", args=["DS0"]), {"month": month}, HTTP_HX_REQUEST="true")
        assert response.status_code == 400
    assert not Report.objects.exists()


def test_generating_outside_ones_area_is_not_found(client, tree, street_command):
    client.force_login(street_command)
    assert client.post(reverse("analytics:generate", args=["DS1"]), {"month": "2026-10"}).status_code == 404
    assert not Report.objects.exists()


def test_publishing_freezes_the_version_and_only_publishers_may(client, tree, street_command, grid_worker_a):
    report = make_report(tree["DS0C0G0"])
    client.force_login(grid_worker_a)
    assert client.post(reverse("analytics:publish", args=[report.pk])).status_code == 403
    client.force_login(street_command)
    response = client.post(reverse("analytics:publish", args=[report.pk]))
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.PUBLISHED
    assert ReportEvent.objects.filter(report=report, type="published").exists()
    page = client.get(reverse("analytics:detail", args=[report.pk]))
    assert page.context["can_publish"] is False


def test_the_workbook_is_rendered_once_and_then_kept(client, tree, street_command, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    report = make_report(tree["DS0"], published=True)
    client.force_login(street_command)
    first = b"".join(client.get(reverse("analytics:xlsx", args=[report.pk])).streaming_content)
    report.refresh_from_db()
    assert report.xlsx
    Report.objects.filter(pk=report.pk).update(figures={**FIGURES, "volume": {}})  # even if the row were touched
    second = b"".join(client.get(reverse("analytics:xlsx", args=[report.pk])).streaming_content)
    assert first == second
    assert openpyxl.load_workbook(io.BytesIO(first)).sheetnames[0] in ("报告", "Report")


def test_the_map_link_opens_the_newest_published_version_or_offers_to_generate(client, tree, street_command):
    draft = make_report(tree["DS0C0G0"], version=2)
    published = make_report(tree["DS0C0G0"], version=1, published=True)
    client.force_login(street_command)
    url = reverse("analytics:area_month", args=["DS0C0G0", "2026-11"])
    assert client.get(url)["Location"] == reverse("analytics:detail", args=[published.pk])
    assert draft.pk
    missing = client.get(reverse("analytics:area_month", args=["DS0C0G1", "2026-11"]))
    assert missing["Location"] == reverse("analytics:area_reports", args=["DS0C0G1"]) + "?month=2026-11"


def test_the_report_page_reads_a_fixed_number_of_queries_however_many_months_came_before(
    client, tree, district_centre, django_assert_max_num_queries
):
    for month in range(1, 11):  # ten earlier published months feed the trend lines
        make_report(tree["D"], month=month, published=True)
    report = make_report(tree["D"])
    client.force_login(district_centre)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("analytics:detail", args=[report.pk])).status_code == 200


def test_without_chromium_the_pdf_download_says_so_and_stores_nothing(client, tree, street_command, settings):
    settings.CHROMIUM_PATH = "/nonexistent/chromium"
    report = make_report(tree["DS0"], published=True)
    client.force_login(street_command)
    response = client.get(reverse("analytics:pdf", args=[report.pk]))
    assert response["Location"] == reverse("analytics:detail", args=[report.pk])
    report.refresh_from_db()
    assert not report.pdf
