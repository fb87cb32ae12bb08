"""The monthly report's pages: the list of an area's reports, one report, its PDF and workbook.

Every page reaches reports through the caller's scope (`area__path` in their subtrees): another
area's report and a missing one are the same 404. Generating and publishing call the report
services (analytics.services.reports); the page, the PDF and the XLSX render the frozen figures
(analytics.render).
"""

from __future__ import annotations

import logging
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from analytics.models import Report, ReportState, ReportStatus
from analytics.render.context import month_label, report_context
from analytics.render.pdf import PdfError, report_pdf
from analytics.render.xlsx import report_xlsx
from analytics.services.reports import report_publish, report_request, report_store_file
from governance.errors import DomainError
from governance.models import Role
from governance.scoping import get_in_scope, scope_for
from governance.selectors import area_children, area_get_for_user, area_roots_for

logger = logging.getLogger(__name__)

# Roles that publish the report of an area in their subtree; everyone who sees an area may
# generate (and read) its reports.
PUBLISHER_ROLES = (Role.DISTRICT_CENTRE, Role.STREET_COMMAND, Role.COMMUNITY_SECRETARY, Role.ADMINISTRATOR)
MONTHS_OFFERED = 24  # the generate form offers this month and the 23 before it
VERSIONS_LISTED = 120  # an area's list shows this many versions, newest month first
FILE_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _report_get(user, report_id: int) -> Report:
    return get_in_scope(user, Report.objects.select_related("area"), path_field="area__path", pk=report_id)


def _ready_report(user, report_id: int) -> Report:
    report = _report_get(user, report_id)
    if report.state != ReportState.READY:
        raise Http404
    return report


def may_publish(user, report: Report) -> bool:
    scope = scope_for(user)
    return (
        report.state == ReportState.READY
        and report.status != ReportStatus.PUBLISHED
        and scope.sees_area(report.area)
        and (scope.sees_all or scope.has_role(*PUBLISHER_ROLES))
    )


def _parse_month(value: str) -> tuple[int, int]:
    """ "2026-11" → (2026, 11); a malformed or future month is refused with a message."""
    try:
        year_text, month_text = value.split("-")
        year, month = int(year_text), int(month_text)
        date(year, month, 1)
    except (AttributeError, ValueError):
        raise DomainError(_("Choose a month like 2026-11."), code="bad_month") from None
    today = timezone.localdate()
    if (year, month) > (today.year, today.month) or year < 2000:
        raise DomainError(_("There is no report for a month that has not begun."), code="bad_month")
    return year, month


def _month_choices() -> list[tuple[str, str]]:
    today = timezone.localdate()
    index = today.year * 12 + today.month - 1
    months = [f"{(index - back) // 12:04d}-{(index - back) % 12 + 1:02d}" for back in range(MONTHS_OFFERED)]
    return [(month, month_label(month)) for month in months]


def _default_month() -> str:
    today = timezone.localdate()
    index = today.year * 12 + today.month - 2  # last month: the one a report is usually wanted for
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@login_required
def report_index(request: HttpRequest) -> HttpResponse:
    """The reports of the user's own areas: one area goes straight to its list."""
    roots = list(area_roots_for(request.user).order_by("path")[:50])
    if not roots:
        raise Http404
    if len(roots) == 1:
        return redirect("analytics:area_reports", code=roots[0].code)
    return render(request, "analytics/report_index.html", {"roots": roots})


@login_required
def area_reports(request: HttpRequest, code: str) -> HttpResponse:
    area = area_get_for_user(request.user, code=code)
    reports = list(
        Report.objects.filter(area=area)
        .only(
            "pk",
            "area_id",
            "year",
            "month",
            "version",
            "status",
            "state",
            "progress",
            "phase",
            "changes",
            "generated_at",
            "published_at",
            "requested_at",
        )
        .order_by("-year", "-month", "-version")[:VERSIONS_LISTED]
    )
    months: list[dict] = []
    for report in reports:
        label = f"{report.year:04d}-{report.month:02d}"
        if not months or months[-1]["month"] != label:
            months.append({"month": label, "label": month_label(label), "versions": []})
        months[-1]["versions"].append(report)
    return render(
        request,
        "analytics/report_list.html",
        {
            "area": area,
            "months": months,
            "count": len(reports),
            "children": area_children(area),
            "month_choices": _month_choices(),
            "default_month": request.GET.get("month") or _default_month(),
        },
    )


@require_POST
@login_required
def report_generate(request: HttpRequest, code: str) -> HttpResponse:
    area = area_get_for_user(request.user, code=code)
    try:
        year, month = _parse_month(request.POST.get("month", ""))
    except DomainError as error:
        if request.headers.get("HX-Request"):
            return render(request, "analytics/_generate_error.html", {"message": error.message}, status=400)
        messages.error(request, error.message)
        return redirect("analytics:area_reports", code=area.code)
    report = report_request(area, year, month, request.user)
    if request.headers.get("HX-Request"):
        return render(request, "analytics/_progress.html", {"report": report})
    messages.success(
        request,
        _("Version %(version)s of %(month)s is being generated.")
        % {"version": report.version, "month": month_label(report.month_label)},
    )
    return redirect("analytics:area_reports", code=area.code)


@login_required
def area_month(request: HttpRequest, code: str, month: str) -> HttpResponse:
    """An area's report of a month (the map's link): the newest published version, else the newest ready one."""
    area = area_get_for_user(request.user, code=code)
    try:
        year, number = _parse_month(month)
    except DomainError:
        raise Http404 from None
    versions = Report.objects.filter(area=area, year=year, month=number, state=ReportState.READY)
    report = (
        versions.filter(status=ReportStatus.PUBLISHED).order_by("-version").first()
        or versions.order_by("-version").first()
    )
    if report is None:
        messages.info(
            request,
            _("%(area)s has no report of %(month)s yet: generate it here.")
            % {"area": area.name, "month": month_label(month)},
        )
        return redirect(reverse("analytics:area_reports", args=[area.code]) + f"?month={year:04d}-{number:02d}")
    return redirect("analytics:detail", report_id=report.pk)


@login_required
def report_progress(request: HttpRequest, report_id: int) -> HttpResponse:
    """The progress bar of one version (htmx polls it until the version is ready or failed)."""
    return render(request, "analytics/_progress.html", {"report": _report_get(request.user, report_id)})


@login_required
def report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    report = _report_get(request.user, report_id)
    if report.state != ReportState.READY:
        return render(request, "analytics/report_pending.html", {"report": report})
    month = report.month_label
    context = report_context(report, link=lambda code: reverse("analytics:area_month", args=[code, month]))
    context.update(
        {
            "pdf_url": reverse("analytics:pdf", args=[report.pk]),
            "xlsx_url": reverse("analytics:xlsx", args=[report.pk]),
            "list_url": reverse("analytics:area_reports", args=[report.area.code]),
            "publish_url": reverse("analytics:publish", args=[report.pk]),
            "can_publish": may_publish(request.user, report),
        }
    )
    return render(request, "analytics/report_detail.html", context)


@require_POST
@login_required
def report_publish_view(request: HttpRequest, report_id: int) -> HttpResponse:
    report = _report_get(request.user, report_id)
    scope = scope_for(request.user)
    if not (scope.sees_all or scope.has_role(*PUBLISHER_ROLES)):
        raise PermissionDenied(
            _("Only the district centre, a street command centre or a community secretary publishes reports.")
        )
    try:
        report_publish(report_id=report.pk, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("Version %(version)s is published; it will not change any more.") % {"version": report.version}
        )
    return redirect("analytics:detail", report_id=report.pk)


def _download(request: HttpRequest, report_id: int, kind: str) -> HttpResponse:
    report = _ready_report(request.user, report_id)
    if not getattr(report, kind):
        try:
            content = report_pdf(report) if kind == "pdf" else report_xlsx(report)
        except PdfError:
            logger.exception("Report %s: the PDF could not be printed", report.pk)
            messages.error(
                request, _("The PDF could not be printed just now; try again later or use the Excel workbook.")
            )
            return redirect("analytics:detail", report_id=report.pk)
        # The first rendering is kept: every later download, by anyone, gets the same bytes.
        report = report_store_file(report_id=report.pk, kind=kind, content=content, actor=request.user)
    name = f"report-{report.area.code}-{report.month_label}-v{report.version}.{kind}"
    return FileResponse(getattr(report, kind).open("rb"), content_type=FILE_TYPES[kind], filename=name)


@login_required
def report_pdf_download(request: HttpRequest, report_id: int) -> HttpResponse:
    return _download(request, report_id, "pdf")


@login_required
def report_xlsx_download(request: HttpRequest, report_id: int) -> HttpResponse:
    return _download(request, report_id, "xlsx")
