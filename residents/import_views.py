"""The import's pages: upload, column mapping, the dry-run report with its progress, the summary.

Each view parses input, checks access through `residents.imports.jobs` and calls one service.
The report pages read only the job's report rows (masked when the check wrote them).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from governance.errors import DomainError, NotFound
from residents.imports import jobs
from residents.imports import mapping as m
from residents.imports import problems as p
from residents.imports.forms import MappingForm, UploadForm
from residents.imports.reading import read_header
from residents.models.imports import ImportJob, ImportRow, ImportStatus, RowAction

REPORT_PAGE_SIZE = 50
# The report's first tab when the file has problems: every problem, in row order.
ALL_PROBLEMS = "problems"
RECENT_JOBS = 20
SAMPLE_ROWS = 3


def _require_importer(request: HttpRequest) -> None:
    if not jobs.may_import(request.user):
        raise PermissionDenied


def _job(request: HttpRequest, import_id: int) -> ImportJob:
    try:
        return jobs.import_job_get_for_user(request.user, import_id)
    except NotFound:
        raise Http404 from None


@login_required
def import_upload(request: HttpRequest) -> HttpResponse:
    _require_importer(request)
    communities = jobs.import_communities(request.user)
    form = UploadForm(request.POST or None, request.FILES or None, communities=communities)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = jobs.import_job_create(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                community=form.cleaned_data["community"],
                file_name=upload.name,
                content=upload.read(),
            )
        except DomainError as error:
            form.add_error("file", error.message)
        else:
            return redirect("imports:mapping", import_id=job.pk)
    recent = (
        jobs.import_jobs_visible_to(request.user)
        .select_related("community", "created_by")
        .defer("content", "header", "mapping")
        .order_by("-created_at")[:RECENT_JOBS]
    )
    return render(request, "residents/import_upload.html", {"form": form, "recent": recent})


@login_required
def import_mapping(request: HttpRequest, import_id: int) -> HttpResponse:
    job = _job(request, import_id)
    if job.status not in (ImportStatus.MAPPING, ImportStatus.CHECKED, ImportStatus.FAILED):
        return redirect("imports:detail", import_id=job.pk)
    form = MappingForm(request.POST or None, kind=job.kind, header=job.header, initial_mapping=job.mapping)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            jobs.import_job_map(actor=request.user, job=job, mapping=form.mapping())
        except DomainError as error:
            problems = error.extra.get("problems") or [error.message]
        else:
            return redirect("imports:detail", import_id=job.pk)
    samples = _samples(job)
    rows = [
        {"field": form[spec.name], "spec": spec, "sample": samples.get(form[spec.name].value() or "", "")}
        for spec in form.specs
    ]
    return render(
        request, "residents/import_mapping.html", {"job": job, "form": form, "rows": rows, "problems": problems}
    )


def _samples(job: ImportJob) -> dict[str, str]:
    """The first non-empty value of each column, masked (a preview beside the mapping)."""
    from governance.privacy import mask_text
    from residents.imports.reading import cell_text

    try:
        table = read_header(bytes(job.content), file_name=job.file_name, fmt=job.file_format, header_hint=job.header)
    except DomainError:
        return {}
    samples: dict[str, str] = {}
    for _number, cells in table.rows[:SAMPLE_ROWS]:
        for column, value in zip(table.header, cells, strict=False):
            if column and column not in samples and cell_text(value):
                samples[column] = mask_text(cell_text(value))[:40]
    return samples


@login_required
def import_detail(request: HttpRequest, import_id: int) -> HttpResponse:
    job = _job(request, import_id)
    if job.status == ImportStatus.MAPPING:
        return redirect("imports:mapping", import_id=job.pk)
    context: dict = {"job": job, "progress": jobs.import_job_progress(job), "kind_label": m.kind_label(job.kind)}
    if not job.is_running:
        context.update(_report(request, job))
    return render(request, "residents/import_detail.html", context)


def _report(request: HttpRequest, job: ImportJob) -> dict:
    summary = job.summary or {}
    groups = [
        {"code": code, "title": p.problem_title(code), "count": count}
        for code, count in (summary.get("problems") or {}).items()
    ]
    kept = dict(ImportRow.objects.filter(job=job).values("action").annotate(n=Count("id")).values_list("action", "n"))
    show = request.GET.get("show", "")
    valid = {g["code"] for g in groups} | {ALL_PROBLEMS, RowAction.CREATE, RowAction.UPDATE}
    if show not in valid:
        show = ALL_PROBLEMS if groups else (RowAction.CREATE if kept.get(RowAction.CREATE) else RowAction.UPDATE)
    if show in (RowAction.CREATE, RowAction.UPDATE):
        rows = ImportRow.objects.filter(job=job, action=show, code="")
    elif show == ALL_PROBLEMS:
        rows = ImportRow.objects.filter(job=job, action=RowAction.PROBLEM)
    else:
        rows = ImportRow.objects.filter(job=job, action=RowAction.PROBLEM, code=show)
    page = Paginator(rows.order_by("row", "id"), REPORT_PAGE_SIZE).get_page(request.GET.get("page"))
    lines = []
    for row in page:
        if row.action == RowAction.PROBLEM:
            detail = p.render(row.code, row.detail.get("column", ""), row.detail.get("params", {}))
            lines.append({"row": row.row, "label": row.label, "message": detail, "changes": []})
        else:
            changes = [
                {"field": m.field_label(job.kind, name), "old": pair[0], "new": pair[1]}
                for name, pair in (row.detail.get("changes") or {}).items()
            ]
            lines.append({"row": row.row, "label": row.label, "message": "", "changes": changes})
    return {
        "summary": summary,
        "groups": groups,
        "show": show,
        "show_title": p.problem_title(show) if show not in (RowAction.CREATE, RowAction.UPDATE) else "",
        # The "all problems" tab lists one line per problem (a row may have several), as its groups do.
        "problem_count": sum(group["count"] for group in groups),
        "page": page,
        "lines": lines,
        "query": f"show={show}",
        "may_start": job.status == ImportStatus.CHECKED and not summary.get("problem_rows"),
        "may_remap": job.status in (ImportStatus.CHECKED, ImportStatus.FAILED) and not job.imported_at,
    }


@login_required
def import_progress(request: HttpRequest, import_id: int) -> HttpResponse:
    """The progress bar alone, polled by htmx; once the run has ended the page reloads itself."""
    job = _job(request, import_id)
    response = render(
        request, "residents/import_progress.html", {"job": job, "progress": jobs.import_job_progress(job)}
    )
    if not job.is_running:
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def import_start(request: HttpRequest, import_id: int) -> HttpResponse:
    job = _job(request, import_id)
    try:
        jobs.import_job_start(actor=request.user, job=job)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The import has started."))
    return redirect("imports:detail", import_id=job.pk)
