"""Generating and publishing monthly reports (docs/analytics.md, "Publishing and versions").

- `build_figures` computes the whole document of REPORT_CONTRACT.md; it writes nothing.
- `report_generate` writes a new version with its figures at once (the command, the schedule, the
  demo); `report_request` writes a queued version and lets a worker fill it (`report_run`), with
  its progress on the row for the progress bar.
- `report_publish` freezes a ready version. A published version is never written again: the
  figures stay as they were when published; generating again makes a new version whose `changes`
  list what moved against the version before.
- `report_store_file` keeps the PDF or XLSX rendered on first download.
Every change is one transaction with a `ReportEvent` row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.models import Report, ReportEvent, ReportEventType, ReportState, ReportStatus
from analytics.narrative import narrate
from analytics.selectors.hotspots import hotspots_section
from analytics.selectors.report import report_figures
from appeals.services._base import enqueue
from governance.errors import Conflict, DomainError
from governance.workcalendar import CALENDAR_TZ
from grids.models import Area

logger = logging.getLogger(__name__)

Progress = Callable[[int, str], None]
MAX_CHANGES_LISTED = 200
SYSTEM = "system"


def build_figures(
    area: Area, year: int, month: int, *, now: datetime | None = None, on_progress: Progress | None = None
) -> dict[str, Any]:
    """The report's figures (REPORT_CONTRACT.md): report-core's sections, hotspots, then the narrative."""
    _check_month(year, month)
    now = now or timezone.now()
    step = on_progress or (lambda percent, phase: None)
    step(5, "figures")
    figures = report_figures(area, year, month, now=now)
    step(60, "hotspots")
    figures["hotspots"] = hotspots_section(area, year, month, now=now)
    step(90, "narrative")
    figures.update(narrate(figures))
    return figures


def _check_month(year: int, month: int) -> None:
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise DomainError(_("Not a valid month."), code="validation_error", extra={"month": f"{year}-{month}"})


def _event(report: Report, event_type: str, actor: Any = None, *, at: datetime, **extra: Any) -> None:
    user = actor if getattr(actor, "pk", None) else None
    ReportEvent.objects.create(
        report=report, type=event_type, actor=user, actor_label="" if user else SYSTEM, extra=extra, created_at=at
    )


def _next_version(area: Area, year: int, month: int) -> int:
    # Lock the area row: two generations of one area's month never take the same number.
    Area.objects.select_for_update().filter(pk=area.pk).first()
    latest = Report.objects.filter(area=area, year=year, month=month).aggregate(v=Max("version"))["v"]
    return (latest or 0) + 1


def _leaves(value: Any, path: str, out: dict[str, Any]) -> None:
    """Numeric leaves by dotted path; list items by their key or unit code, so re-ordering is no change."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("generated_at", "narrative", "recommendations", "settings"):
                continue
            _leaves(item, f"{path}.{key}" if path else key, out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            name = index
            if isinstance(item, dict):
                if "key" in item:
                    name = item["key"]
                elif isinstance(item.get("unit"), dict):
                    name = item["unit"].get("code", index)
                elif "id" in item:
                    name = item["id"]
            _leaves(item, f"{path}[{name}]", out)
    elif value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        out[path] = value


def figures_changes(before: dict[str, Any] | None, after: dict[str, Any], previous_version: int | None) -> dict:
    """What moved between two versions' figures: every numeric figure whose value differs."""
    if before is None:
        return {"previous_version": None, "count": 0, "items": []}
    old, new = {}, {}
    _leaves(before, "", old)
    _leaves(after, "", new)
    items = [
        {"ref": ref, "before": old.get(ref), "after": new.get(ref)}
        for ref in sorted(set(old) | set(new))
        if old.get(ref) != new.get(ref)
    ]
    return {"previous_version": previous_version, "count": len(items), "items": items[:MAX_CHANGES_LISTED]}


def _previous(report: Report) -> Report | None:
    return (
        Report.objects.filter(
            area_id=report.area_id,
            year=report.year,
            month=report.month,
            version__lt=report.version,
            state=ReportState.READY,
        )
        .order_by("-version")
        .first()
    )


def report_generate(
    *, area: Area, year: int, month: int, actor: Any = None, now: datetime | None = None, publish: bool = False
) -> Report:
    """A new version of the area's month with its figures computed now (published too if asked)."""
    _check_month(year, month)
    figures = build_figures(area, year, month, now=now)
    at = timezone.now()
    with transaction.atomic():
        report = Report.objects.create(
            area=area,
            year=year,
            month=month,
            version=_next_version(area, year, month),
            state=ReportState.READY,
            progress=100,
            figures=figures,
            created_by=actor if getattr(actor, "pk", None) else None,
            requested_at=at,
            generated_at=at,
        )
        previous = _previous(report)
        report.changes = figures_changes(
            previous.figures if previous else None, figures, previous.version if previous else None
        )
        report.save(update_fields=["changes"])
        _event(report, ReportEventType.GENERATED, actor, at=at, version=report.version, changed=report.changes["count"])
        if publish:
            _publish_locked(report, actor, at)
    return report


def report_request(area: Area, year: int, month: int, user: Any) -> Report:
    """A queued version of the area's month; a worker computes it (`report_run`) and moves `progress`."""
    _check_month(year, month)
    at = timezone.now()
    with transaction.atomic():
        report = Report.objects.create(
            area=area,
            year=year,
            month=month,
            version=_next_version(area, year, month),
            state=ReportState.QUEUED,
            created_by=user if getattr(user, "pk", None) else None,
            requested_at=at,
        )
        _event(report, ReportEventType.REQUESTED, user, at=at, version=report.version)
        enqueue("analytics.generate_report", report.pk)
    return report


def _set_progress(report_id: int, percent: int, phase: str) -> None:
    # Outside the generation's own work: the progress bar reads it while the figures are computed.
    Report.objects.filter(pk=report_id, state=ReportState.RUNNING).update(progress=percent, phase=phase)


def report_run(*, report_id: int, now: datetime | None = None) -> Report | None:
    """Compute a queued version's figures (idempotent: a version already taken is left alone)."""
    claimed = Report.objects.filter(pk=report_id, state=ReportState.QUEUED).update(
        state=ReportState.RUNNING, progress=1, phase="start"
    )
    if not claimed:
        return None
    report = Report.objects.select_related("area").get(pk=report_id)
    try:
        figures = build_figures(
            report.area, report.year, report.month, now=now, on_progress=lambda p, s: _set_progress(report_id, p, s)
        )
    except Exception as error:
        logger.exception("Report %s could not be generated", report_id)
        at = timezone.now()
        with transaction.atomic():
            Report.objects.filter(pk=report_id).update(
                state=ReportState.FAILED, phase="", error_message=f"{type(error).__name__}: {error}"[:2000]
            )
            _event(report, ReportEventType.FAILED, None, at=at, error=type(error).__name__)
        report.refresh_from_db()
        return report
    at = timezone.now()
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report_id)
        previous = _previous(report)
        report.figures = figures
        report.changes = figures_changes(
            previous.figures if previous else None, figures, previous.version if previous else None
        )
        report.state, report.progress, report.phase, report.generated_at = ReportState.READY, 100, "", at
        report.save(update_fields=["figures", "changes", "state", "progress", "phase", "generated_at"])
        _event(report, ReportEventType.GENERATED, report.created_by, at=at, version=report.version)
    return report


def _publish_locked(report: Report, actor: Any, at: datetime) -> None:
    report.status, report.published_at = ReportStatus.PUBLISHED, at
    report.published_by = actor if getattr(actor, "pk", None) else None
    report.save(update_fields=["status", "published_at", "published_by"])
    _event(report, ReportEventType.PUBLISHED, actor, at=at, version=report.version)


def report_publish(*, report_id: int, actor: Any = None) -> Report:
    """Publish a ready draft: from now on its figures and files never change."""
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report_id)
        if report.status == ReportStatus.PUBLISHED:
            raise Conflict(_("This report is already published."), code="already_published")
        if report.state != ReportState.READY:
            raise Conflict(_("The report is still being generated; it cannot be published yet."), code="not_ready")
        _publish_locked(report, actor, timezone.now())
    return report


def report_store_file(*, report_id: int, kind: str, content: bytes, actor: Any = None) -> Report:
    """Keep the rendered PDF or XLSX of a version; a file already kept stays (first rendering wins)."""
    if kind not in ("pdf", "xlsx"):
        raise ValueError(f"Unknown report file kind {kind!r}.")
    with transaction.atomic():
        report = Report.objects.select_for_update().select_related("area").get(pk=report_id)
        if getattr(report, kind):
            return report
        name = f"report-{report.area.code}-{report.month_label}-v{report.version}.{kind}"
        getattr(report, kind).save(name, ContentFile(content), save=False)
        report.save(update_fields=[kind])
        _event(report, ReportEventType.RENDERED, actor, at=timezone.now(), kind=kind)
    return report


def reports_enqueue_stale(*, older_than_seconds: int = 120) -> int:
    """Send again the queued versions the broker never delivered."""
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    ids = list(Report.objects.filter(state=ReportState.QUEUED, requested_at__lte=cutoff).values_list("pk", flat=True))
    for report_id in ids:
        enqueue("analytics.generate_report", report_id)
    return len(ids)


def previous_month_of(moment: datetime) -> tuple[int, int]:
    local = moment.astimezone(CALENDAR_TZ)
    return (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)


def scheduled_areas() -> list[Area]:
    """The areas published every month: each district and every street."""
    from grids.models import AreaLevel

    return list(Area.objects.filter(level__in=[AreaLevel.DISTRICT, AreaLevel.STREET]).order_by("path"))


def report_publish_scheduled(*, area_id: int, year: int, month: int) -> Report | None:
    """Generate and publish the area's month unless a published version exists (idempotent)."""
    if Report.objects.filter(area_id=area_id, year=year, month=month, status=ReportStatus.PUBLISHED).exists():
        return None
    return report_generate(area=Area.objects.get(pk=area_id), year=year, month=month, publish=True)
