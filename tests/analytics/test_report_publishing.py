"""Generating, requesting, publishing and versions of monthly reports; the beat entry."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from celery.schedules import crontab

from analytics.models import Report, ReportEvent, ReportState, ReportStatus
from analytics.services.reports import (
    figures_changes,
    report_generate,
    report_publish,
    report_publish_scheduled,
    report_request,
    report_run,
    report_store_file,
)
from appeals.models import Channel, Petition
from appeals.services._base import location_columns
from governance.celery import app
from governance.errors import Conflict

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 12, 1, 2, tzinfo=SH)


def petition(grid, number: int, when: datetime) -> Petition:
    return Petition.objects.create(
        tracking_no=f"V{number:08d}",
        channel=Channel.HOTLINE,
        title="测试",
        description="测试",
        status="assigned",
        tier=1,
        handler_area=grid,
        created_at=when,
        **location_columns(grid),
    )


def test_a_published_version_never_changes_and_a_new_one_lists_the_changes(tree, district_centre):
    street = tree["DS0"]
    petition(tree["DS0C0G0"], 1, datetime(2025, 11, 3, tzinfo=SH))
    first = report_generate(area=street, year=2025, month=11, actor=district_centre, now=NOW)
    first = report_publish(report_id=first.pk, actor=district_centre)
    assert first.status == ReportStatus.PUBLISHED and first.figures["volume"]["total"]["value"] == 1
    with pytest.raises(Conflict):
        report_publish(report_id=first.pk, actor=district_centre)

    petition(tree["DS0C0G0"], 2, datetime(2025, 11, 30, 23, tzinfo=SH))  # a late arrival
    second = report_generate(area=street, year=2025, month=11, now=NOW)
    first.refresh_from_db()
    assert first.figures["volume"]["total"]["value"] == 1  # frozen
    assert second.version == 2 and second.status == ReportStatus.DRAFT
    changed = {item["ref"]: item for item in second.changes["items"]}
    assert second.changes["previous_version"] == 1
    assert changed["volume.total.value"] == {"ref": "volume.total.value", "before": 1, "after": 2}
    assert "volume.by_channel[hotline].count.value" in changed
    assert list(ReportEvent.objects.filter(report=first).values_list("type", flat=True)) == ["generated", "published"]


def test_changes_ignore_reordering_and_the_generation_time():
    before = {
        "generated_at": "a",
        "rates": {"by_unit": [{"unit": {"code": "A"}, "rank": 1}, {"unit": {"code": "B"}, "rank": 2}]},
    }
    after = {
        "generated_at": "b",
        "rates": {"by_unit": [{"unit": {"code": "B"}, "rank": 2}, {"unit": {"code": "A"}, "rank": 1}]},
    }
    assert figures_changes(before, after, 1)["count"] == 0


def test_a_requested_version_is_generated_by_the_worker_with_its_progress(
    tree, street_command, django_capture_on_commit_callbacks, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with django_capture_on_commit_callbacks() as callbacks:
        report = report_request(tree["DS0"], 2025, 11, street_command)
    assert report.state == ReportState.QUEUED and report.progress == 0 and len(callbacks) == 1
    done = report_run(report_id=report.pk, now=NOW)
    assert done.state == ReportState.READY and done.progress == 100 and done.figures["schema"] == 1
    assert report_run(report_id=report.pk, now=NOW) is None  # a second delivery does nothing
    assert report.created_by == street_command


def test_a_draft_still_generating_cannot_be_published(tree, street_command, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        report = report_request(tree["DS0"], 2025, 11, street_command)
    with pytest.raises(Conflict):
        report_publish(report_id=report.pk, actor=street_command)


def test_the_first_rendering_of_a_file_is_kept(tree):
    report = report_generate(area=tree["DS0"], year=2025, month=11, now=NOW, publish=True)
    report = report_store_file(report_id=report.pk, kind="xlsx", content=b"first")
    name = report.xlsx.name
    report = report_store_file(report_id=report.pk, kind="xlsx", content=b"second")
    assert report.xlsx.name == name and report.xlsx.read() == b"first"


def test_the_schedule_publishes_once_per_area_and_month(tree):
    assert report_publish_scheduled(area_id=tree["DS0"].pk, year=2025, month=11) is not None
    assert report_publish_scheduled(area_id=tree["DS0"].pk, year=2025, month=11) is None
    assert Report.objects.filter(area=tree["DS0"], status=ReportStatus.PUBLISHED).count() == 1


def test_beat_publishes_last_month_on_the_first_at_two_in_beijing_time():
    entry = app.conf.beat_schedule["analytics.publish_monthly"]
    assert entry["schedule"] == crontab(minute=0, hour=2, day_of_month=1)
    assert app.conf.timezone == "Asia/Shanghai"


def test_the_command_writes_the_figures_and_publishes(tree, tmp_path):
    import json

    from django.core.management import CommandError, call_command

    output = tmp_path / "report.json"
    call_command("report_monthly", area="DS0", month="2025-11", publish=True, output=str(output))
    figures = json.loads(output.read_text())
    report = Report.objects.get(area=tree["DS0"], year=2025, month=11)
    assert report.status == ReportStatus.PUBLISHED and figures["area"]["code"] == "DS0"
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("report_monthly", area="DS0", month="2025-13")
    with pytest.raises(CommandError, match="区域编码"):
        call_command("report_monthly", area="NOPE", month="2025-11")
