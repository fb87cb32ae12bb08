"""The grid worker's patrol on a phone (an installable web app that works offline) and the patrol
log of a grid for the community. Every page works without JavaScript; with it, submissions made
offline wait on the phone and are sent when the network is back (static/js/patrol.js)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from appeals.models import Patrol
from appeals.patrol_forms import PatrolCloseForm, PatrolNoteForm, PatrolReportForm, PatrolStartForm
from appeals.services import patrol as svc
from governance.errors import DomainError
from governance.scoping import scope_for

LOG_PAGE = 20


def _error(request: HttpRequest, form, error: DomainError) -> None:
    fields = (error.extra or {}).get("fields") or {}
    placed = False
    for name, message in fields.items():
        if name in form.fields:
            form.add_error(name, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)


def _answer(request: HttpRequest, ok: bool, message: str, status: int = 200) -> HttpResponse | None:
    """The offline queue posts with `Accept: application/json` and wants a short JSON answer."""
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"ok": ok, "message": message}, status=status)
    return None


@login_required
def patrol_home(request: HttpRequest) -> HttpResponse:
    grids = svc.patrol_grids(request.user)
    if not grids:
        raise PermissionDenied(_("Patrols are for grid workers and micro-grid heads."))
    patrol = svc.patrol_open_for(request.user)
    context = {"patrol": patrol, "grids": grids}
    if patrol is None:
        context["start_form"] = PatrolStartForm(grids=grids)
        context["recent"] = (
            Patrol.objects.filter(worker=request.user)
            .annotate(n_notes=Count("notes"), n_reports=Count("notes", filter=Q(notes__petition__isnull=False)))
            .select_related("grid")
            .order_by("-started_at")[:5]
        )
    else:
        context.update(
            note_form=PatrolNoteForm(),
            report_form=PatrolReportForm(),
            close_form=PatrolCloseForm(),
            notes=patrol.notes.select_related("petition").order_by("-noted_at", "-pk"),
        )
    return render(request, "appeals/patrol/home.html", context)


@login_required
@require_POST
def patrol_start(request: HttpRequest) -> HttpResponse:
    grids = svc.patrol_grids(request.user)
    form = PatrolStartForm(request.POST, grids=grids)
    if form.is_valid():
        try:
            svc.patrol_start(
                worker=request.user, grid=form.cleaned_data["grid"], client_key=form.cleaned_data["client_key"]
            )
        except DomainError as error:
            if json := _answer(request, False, error.message, error.http_status):
                return json
            messages.error(request, error.message)
        else:
            if json := _answer(request, True, _("Patrol started.")):
                return json
    else:
        if json := _answer(request, False, _("Please correct the errors below."), 400):
            return json
        messages.error(request, _("Please correct the errors below."))
    return redirect("patrol:home")


def _open_or_home(request: HttpRequest) -> Patrol | None:
    patrol = svc.patrol_open_for(request.user)
    if patrol is None:
        messages.error(request, _("Start a patrol first."))
    return patrol


def _render_open(request: HttpRequest, patrol: Patrol, status: int, **forms) -> HttpResponse:
    context = {
        "patrol": patrol,
        "note_form": forms.get("note_form") or PatrolNoteForm(),
        "report_form": forms.get("report_form") or PatrolReportForm(),
        "close_form": PatrolCloseForm(),
        "notes": patrol.notes.select_related("petition").order_by("-noted_at", "-pk"),
    }
    return render(request, "appeals/patrol/home.html", context, status=status)


def _submit(request: HttpRequest, form, run, form_name: str) -> HttpResponse:
    """The flow of the patrol's forms: a valid form goes to the service (`run` returns the message);
    a refusal or a bad field answers JSON to the offline queue, else the page again (400) with why."""
    if form.is_valid():
        try:
            message = run(form.cleaned_data)
        except DomainError as error:
            if json := _answer(request, False, error.message, error.http_status):
                return json
            _error(request, form, error)
        else:
            if json := _answer(request, True, message):
                return json
            messages.success(request, message)
            return redirect("patrol:home")
    elif json := _answer(request, False, _("Please correct the errors below."), 400):
        return json
    patrol = _open_or_home(request)
    if patrol is None:
        return redirect("patrol:home")
    return _render_open(request, patrol, 400, **{form_name: form})


@login_required
@require_POST
def patrol_note(request: HttpRequest, patrol_id: int) -> HttpResponse:
    def run(data: dict) -> str:
        svc.patrol_note(
            patrol_id=patrol_id,
            worker=request.user,
            place=data["place"],
            seen=data["seen"],
            done=data["done"],
            lon=data["lon"],
            lat=data["lat"],
            client_key=data["client_key"],
        )
        return _("Noted.")

    return _submit(request, PatrolNoteForm(request.POST), run, "note_form")


@login_required
@require_POST
def patrol_report(request: HttpRequest, patrol_id: int) -> HttpResponse:
    def run(data: dict) -> str:
        petition = svc.patrol_report(
            patrol_id=patrol_id,
            worker=request.user,
            title=data["title"],
            description=data["description"],
            category=data["category"],
            place=data["place"],
            lon=data["lon"],
            lat=data["lat"],
            photos=data["photos"],
            client_key=data["client_key"],
        )
        return _("Problem filed as petition %(no)s.") % {"no": petition.tracking_no}

    return _submit(request, PatrolReportForm(request.POST, request.FILES), run, "report_form")


@login_required
@require_POST
def patrol_close(request: HttpRequest, patrol_id: int) -> HttpResponse:
    form = PatrolCloseForm(request.POST)
    summary = form.cleaned_data["summary"] if form.is_valid() else ""
    try:
        svc.patrol_close(patrol_id=patrol_id, worker=request.user, summary=summary)
    except DomainError as error:
        if json := _answer(request, False, error.message, error.http_status):
            return json
        messages.error(request, error.message)
    else:
        if json := _answer(request, True, _("Patrol closed.")):
            return json
        messages.success(request, _("Patrol closed."))
    return redirect("patrol:home")


@login_required
def patrol_log(request: HttpRequest) -> HttpResponse:
    """The patrols of the grids in the user's subtree, newest first (the community's view)."""
    scope = scope_for(request.user)
    if not scope.is_staff_member:
        raise PermissionDenied(_("The patrol log is for staff."))
    patrols = scope.filter(Patrol.objects.all(), path_field="grid__path")
    if not scope.area_paths and not scope.sees_all:
        patrols = patrols.none()
    patrols = (
        patrols.select_related("grid", "worker")
        .annotate(n_notes=Count("notes"), n_reports=Count("notes", filter=Q(notes__petition__isnull=False)))
        .order_by("-started_at", "-pk")
    )
    page = Paginator(patrols, LOG_PAGE).get_page(request.GET.get("page"))
    return render(request, "appeals/patrol/log.html", {"page": page})


@login_required
def patrol_detail(request: HttpRequest, patrol_id: int) -> HttpResponse:
    scope = scope_for(request.user)
    patrol = (
        scope.filter(Patrol.objects.filter(pk=patrol_id), path_field="grid__path")
        .select_related("grid", "worker")
        .first()
    )
    if patrol is None or not (scope.area_paths or scope.sees_all):
        raise Http404
    notes = patrol.notes.select_related("petition").order_by("noted_at", "pk")
    return render(request, "appeals/patrol/detail.html", {"patrol": patrol, "notes": notes})


@cache_control(max_age=3600)
def patrol_manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest: installs the patrol page on the phone's home screen."""
    return JsonResponse(
        {
            "name": _("Grid patrol"),
            "short_name": _("Patrol"),
            "start_url": reverse("patrol:home"),
            "scope": reverse("patrol:home"),
            "display": "standalone",
            "background_color": "#f6f6f4",
            "theme_color": "#c0392b",
            "lang": "zh-CN",
            "icons": [{"src": static("img/favicon.svg"), "sizes": "any", "type": "image/svg+xml"}],
        },
        content_type="application/manifest+json",
        json_dumps_params={"ensure_ascii": False},
    )


@cache_control(no_cache=True)
def patrol_service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, served under /patrol/ so its scope is the patrol pages."""
    assets = [
        static("vendor/bootstrap/bootstrap.min.css"),
        static("css/app.css"),
        static("css/patrol.css"),
        static("js/patrol.js"),
        static("vendor/htmx/htmx.min.js"),
        static("vendor/bootstrap/bootstrap.bundle.min.js"),
        static("img/favicon.svg"),
    ]
    response = render(
        request,
        "appeals/patrol/sw.js",
        {"assets": assets, "home": reverse("patrol:home")},
        content_type="application/javascript",
    )
    return response
