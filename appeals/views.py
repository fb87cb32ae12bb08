"""Server-rendered petition pages: the resident's mobile form and tracking, and the staff desk.

Every page parses input, calls one selector or service (the same ones the API uses) and renders.
Resident pages work without JavaScript: plain forms, POST → redirect → GET.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import F, Prefetch, QuerySet, prefetch_related_objects
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject, cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from appeals import forms as f
from appeals import policy
from appeals.actions import REGISTRY, RESIDENT, action_perform, form_data
from appeals.filters import WorklistFilter
from appeals.lifecycle import TRANSITIONS
from appeals.models import (
    TIMED_STATUSES,
    Assignment,
    Channel,
    ExtensionRequest,
    Petition,
    PetitionPhoto,
    Status,
)
from appeals.page_selectors import (
    internal_notes,
    manager_districts,
    rating_rounds,
    reply_templates_managed_by,
    timeline_in_words,
)
from appeals.privacy import contact_access, contact_fields_for, text_masker
from appeals.selectors import (
    DISTRICT_TABS,
    LIST_DEFERRED,
    WORKLIST_ROW_FIELDS,
    WORKLIST_TABS,
    areas_for_picker,
    categories_by_id,
    categories_version,
    list_ordered,
    petition_get_by_token,
    petition_get_for_user,
    petition_resident_view,
    petition_timeline,
    petitions_listed_for,
    petitions_visible_to,
    sees_sweep_failures,
    todo_reads_pending,
    worklist_tab_condition,
)
from appeals.services import notes as note_services
from appeals.services import (
    petition_submit,
)
from appeals.services.reply_templates import reply_template_save
from appeals.services.sweeps import petition_sweep_failure_clear
from appeals.services.tracking import petition_track_lookup
from appeals.worklist import EXPORT_MAX_ROWS, row_html, row_labels, sla_for, worklist_xlsx
from governance.clientip import client_ip
from governance.errors import DomainError, RateLimited
from governance.identity import normalize_phone
from governance.limits import rate_limit
from governance.pagination import COUNT_CAP, KeptRows, capped_count, count_up_to, kept_list
from governance.privacy import mask_text, reveals_personal_data
from governance.scoping import scope_for
from governance.selectors import department_names
from grids.models import Area

logger = logging.getLogger(__name__)

PAGE_SIZE = 20
# What the staff detail page shows of the petition's personal and free-text fields (appeals.privacy).
DETAIL_FIELDS = ("contact_phone", "contact_name", "title", "description", "reply", "address")
# The session remembers which petitions this browser proved it may follow (tracking no → phone).
TRACKED_SESSION_KEY = "appeals_tracked"
SUBMITTED_SESSION_KEY = "appeals_submitted"
MAX_TRACKED = 20
RESIDENT_ACTIONS = frozenset(name for name, action in REGISTRY.items() if RESIDENT in action.audience)
# Form fields of the service's validation errors, as named in `DomainError.extra["fields"]`.
SUBMIT_FIELD_MAP = {"location": None, "channel": None}


def _add_service_errors(form: Any, error: DomainError, field_map: dict[str, str | None] | None = None) -> bool:
    """Put a DomainError's per-field messages on the form; False when it names no fields."""
    fields = error.extra.get("fields") or {}
    if not isinstance(fields, dict) or not fields:
        return False
    for name, message in fields.items():
        target = (field_map or {}).get(name, name)
        form.add_error(target if target in form.fields else None, str(message))
    return True


# --- Resident pages ------------------------------------------------------------------------------


def petition_new(request: HttpRequest) -> HttpResponse:
    """The public form; a logged-in resident becomes the submitter."""
    if request.method == "POST":
        form = f.PetitionForm(request.POST, request.FILES)
        if form.is_valid():
            # Photos were fully checked by the form: nothing is written unless all of them pass.
            data = form.cleaned_data
            user = request.user if request.user.is_authenticated else None
            try:
                # Per client address; fails open: a Redis outage must not stop residents filing.
                rate_limit("petition-form", client_ip(request), setting="RATE_PETITION_FORM", fail_open=True)
                submission = petition_submit(
                    channel=Channel.MOBILE,
                    title=data["title"],
                    description=data["description"],
                    category=data["category"],
                    reported_area=data["community"],
                    address=data["address"],
                    lon=data["lon"],
                    lat=data["lat"],
                    contact_name=data["contact_name"],
                    contact_phone=data["contact_phone"],
                    submitter=user,
                    actor_label="" if user else "resident",
                    idempotency_key=f"web:{data['idempotency_key']}",
                )
            except RateLimited as error:
                form.add_error(None, error.message)
                response = render(request, "appeals/petition_form.html", {"form": form}, status=429)
                response["Retry-After"] = str(error.retry_after)
                return response
            except DomainError as error:
                if not _add_service_errors(form, error, SUBMIT_FIELD_MAP):
                    form.add_error(None, error.message)
            else:
                petition = submission.petition
                if not submission.created and petition.contact_phone != normalize_phone(data["contact_phone"]):
                    # A replayed key from someone else must not reveal the first petition.
                    form.add_error(None, _("This form was already used. Please reload the page and try again."))
                    return render(request, "appeals/petition_form.html", {"form": form}, status=400)
                if submission.created and data["photos"]:
                    _save_photos(request, petition, data["photos"])
                _remember_tracked(request, petition)
                request.session[SUBMITTED_SESSION_KEY] = petition.tracking_no
                return redirect("appeals:submitted")
    else:
        form = f.PetitionForm()
    return render(request, "appeals/petition_form.html", {"form": form}, status=400 if form.errors else 200)


def _save_photos(request: HttpRequest, petition: Petition, photos: list) -> None:
    """The petition is already committed (petition_submit commits its own transaction); a storage
    failure here keeps the petition and tells the resident the photos are missing."""
    try:
        with transaction.atomic():
            for upload in photos:
                PetitionPhoto.objects.create(petition=petition, image=upload)
    except Exception:  # any storage failure; the petition itself is safe
        logger.exception("Could not store the photos of petition %s", petition.tracking_no)
        messages.warning(
            request, _("Your petition was filed, but its photos could not be saved. Staff may ask you for them.")
        )


def petition_submitted(request: HttpRequest) -> HttpResponse:
    tracking_no = request.session.get(SUBMITTED_SESSION_KEY)
    token = request.session.get(TRACKED_SESSION_KEY, {}).get(tracking_no) if tracking_no else None
    if not token:
        return redirect("appeals:new")
    link = request.build_absolute_uri(reverse("appeals:track_token", args=[token]))
    return render(request, "appeals/petition_submitted.html", {"tracking_no": tracking_no, "link": link})


def _remember_tracked(request: HttpRequest, petition: Petition) -> None:
    """This browser proved it may follow the petition: keep its secret token in the session."""
    tracked = dict(request.session.get(TRACKED_SESSION_KEY, {}))
    tracked.pop(petition.tracking_no, None)
    tracked[petition.tracking_no] = petition.access_token
    # Keep the session small: the most recently followed petitions only.
    request.session[TRACKED_SESSION_KEY] = dict(list(tracked.items())[-MAX_TRACKED:])


def petition_track(request: HttpRequest) -> HttpResponse:
    """Find a petition by tracking number and phone: counted and locked against guessing, and every
    failure (wrong number, wrong phone, locked number) answers alike (appeals.services.tracking)."""
    status, retry_after = 200, None
    if request.method == "POST":
        form = f.TrackForm(request.POST)
        if form.is_valid():
            try:
                petition = petition_track_lookup(
                    tracking_no=form.cleaned_data["tracking_no"],
                    contact_phone=form.cleaned_data["contact_phone"],
                    client=client_ip(request),
                )
            except DomainError as error:
                form.add_error(None, error.message)
                # A refused look-up is a form error (400); too many (429) and unavailable (503) say so.
                status = error.http_status if error.http_status in (429, 503) else 400
                retry_after = getattr(error, "retry_after", None)
            else:
                _remember_tracked(request, petition)
                return redirect("appeals:track_status", tracking_no=petition.tracking_no)
        else:
            status = 400
    else:
        form = f.TrackForm(initial={"tracking_no": request.GET.get("no", "")})
    response = render(request, "appeals/track_form.html", {"form": form}, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def petition_track_token(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the resident's text messages: its secret token opens the tracking page."""
    petition = petition_get_by_token(token=token)
    _remember_tracked(request, petition)
    return redirect("appeals:track_status", tracking_no=petition.tracking_no)


def _tracked_petition(request: HttpRequest, tracking_no: str) -> tuple[Petition, str | None]:
    """The petition this browser may follow: opened by its link or proved by phone earlier, or
    filed by the logged-in user. Returns it with its phone (the proof the outcome services take)."""
    token = request.session.get(TRACKED_SESSION_KEY, {}).get(tracking_no)
    if token:
        petition = petition_get_by_token(token=token, tracking_no=tracking_no)
        return petition, petition.contact_phone or None
    if request.user.is_authenticated:
        petition = (
            Petition.objects.select_related("category__parent")
            .filter(submitter=request.user, tracking_no=tracking_no)
            .first()
        )
        if petition is not None:
            return petition, None
    raise Http404


def petition_track_status(request: HttpRequest, tracking_no: str) -> HttpResponse:
    try:
        petition, phone = _tracked_petition(request, tracking_no)
    except Http404:
        return redirect(f"{reverse('appeals:track')}?no={tracking_no}")
    return _render_status(request, petition, phone=phone)


def _resident_actor(request: HttpRequest, petition: Petition) -> Any:
    """The signed-in submitter, else an anonymous caller who proved the phone."""
    if request.user.is_authenticated and petition.submitter_id == request.user.pk:
        return request.user
    return AnonymousUser()


def _render_status(
    request: HttpRequest,
    petition: Petition,
    *,
    phone: str | None = None,
    rate_form=None,
    reopen_form=None,
    status: int = 200,
):
    actor = _resident_actor(request, petition)
    view = petition_resident_view(petition)
    offered = set(policy.actions_for(actor, petition, contact_phone=phone)) & RESIDENT_ACTIONS
    return render(
        request,
        "appeals/track_status.html",
        {
            "petition": petition,
            "view": view,
            "rate_form": rate_form or (f.RateForm() if "rate" in offered else None),
            "reopen_form": reopen_form or (f.ReopenForm() if "reopen" in offered else None),
        },
        status=status,
    )


@require_POST
def petition_track_rate(request: HttpRequest, tracking_no: str) -> HttpResponse:
    return _resident_outcome(request, tracking_no, "rate")


@require_POST
def petition_track_reopen(request: HttpRequest, tracking_no: str) -> HttpResponse:
    return _resident_outcome(request, tracking_no, "reopen")


def _resident_outcome(request: HttpRequest, tracking_no: str, action: str) -> HttpResponse:
    try:
        petition, phone = _tracked_petition(request, tracking_no)
    except Http404:
        return redirect(f"{reverse('appeals:track')}?no={tracking_no}")
    form = f.RateForm(request.POST) if action == "rate" else f.ReopenForm(request.POST)
    if form.is_valid():
        data = {**form.cleaned_data, "contact_phone": phone}
        try:
            action_perform(action, petition=petition, actor=_resident_actor(request, petition), data=data)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            if action == "rate":
                messages.success(request, _("Thank you for your rating."))
            else:
                messages.success(request, _("Your petition was reopened; the handling unit will look at it again."))
            return redirect("appeals:track_status", tracking_no=tracking_no)
    forms_kw = {"rate_form": form} if action == "rate" else {"reopen_form": form}
    return _render_status(request, petition, phone=phone, status=400, **forms_kw)


@login_required
def petition_mine(request: HttpRequest) -> HttpResponse:
    petitions = Petition.objects.filter(submitter=request.user).select_related("category").order_by("-created_at")
    page = Paginator(petitions, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "appeals/petition_mine.html", {"page": page})


# --- Staff desk ----------------------------------------------------------------------------------

# Rows per page the list offers; the number of queries does not depend on it (tested).
PAGE_SIZES = (20, 50, 100)
SORTS = {
    "-created": ("-created_at", "-pk"),
    "created": ("created_at", "pk"),
    "deadline": (F("deadline_at").asc(nulls_last=True), "-created_at", "-pk"),
    "-deadline": (F("deadline_at").desc(nulls_last=True), "-created_at", "-pk"),
}
SORT_LABELS = {
    "-created": gettext_lazy("Newest first"),
    "created": gettext_lazy("Oldest first"),
    "deadline": gettext_lazy("Deadline, soonest first"),
    "-deadline": gettext_lazy("Deadline, latest first"),
}
# The map draws at most this many points of the filtered list (newest first); the page says so.
MAP_MAX_POINTS = 2000
BULK_MAX = 100


class CappedPaginator(Paginator):
    """A Paginator whose count stops at COUNT_CAP (`governance.pagination.capped_count`): above it
    the page says "10,000+" and offers the first COUNT_CAP rows' pages, instead of a count(*) that
    reads every matching row (a district's 待办 over a million petitions)."""

    count_exact = True

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        # `SELECT count(*) FROM (… LIMIT cap + 1)`: reads at most cap + 1 rows, no estimate query;
        # its SQL compiled once per query shape (`governance.pagination.count_up_to`), or kept
        # with the page's (`KeptRows`).
        if isinstance(self.object_list, KeptRows):
            counted = self.object_list.count_up_to(COUNT_CAP + 1)
        else:
            counted = count_up_to(self.object_list, COUNT_CAP + 1)
        self.count_exact = counted <= COUNT_CAP
        return min(counted, COUNT_CAP)


def _worklist(request: HttpRequest, *, rows: bool = False) -> tuple[WorklistFilter, QuerySet[Petition], str]:
    """The filtered, scoped, sorted list and its filter (for the page, the map and the export).

    `rows`: only what the page's rows read (WORKLIST_ROW_FIELDS); else the petitions with their
    category, handling area and department joined (the export)."""
    filterset = WorklistFilter(request.GET, queryset=petitions_listed_for(request.user), request=request)
    sort = _sort(request)
    if rows:
        petitions = filterset.qs.select_related("handler_area").only(*WORKLIST_ROW_FIELDS)
    else:
        petitions = filterset.qs.select_related("category__parent", "handler_area", "handler_department").defer(
            *LIST_DEFERRED
        )
    return filterset, list_ordered(request.user, petitions.order_by(*SORTS[sort])), sort


def _sort(request: HttpRequest) -> str:
    sort = request.GET.get("sort") or "-created"
    return sort if sort in SORTS else "-created"


def _tab_rows(user: Any, tab: str, sort: str, **todo: Any) -> QuerySet[Petition]:
    """A tab's plain view (`appeals.filters.plain_tab`) as `_worklist(rows=True)` lists it:
    the scoped list, the tab's condition (`todo`: its `now` and `pending_ids`), the rows' fields."""
    petitions = petitions_listed_for(user).filter(worklist_tab_condition(tab, user, **todo))
    return list_ordered(
        user, petitions.select_related("handler_area").only(*WORKLIST_ROW_FIELDS).order_by(*SORTS[sort])
    )


def _kept_tab_rows(user: Any, tab: str, sort: str, now: Any, window: tuple[int, int] | None = None) -> KeptRows | None:
    """The plain view's rows by their kept statements (`governance.pagination.kept_list`): the same
    rows as `_tab_rows`, without building and compiling its condition at every request. Keyed by
    what the condition is built from: the user, their scope, the tab, the order and, for 待办, the
    pending extension decisions where it reads their ids first (`appeals.selectors.todo_reads_pending`)."""
    # The ids, where read first, are part of the key; a statement reading them itself is not.
    pending = None if tab != "todo" or todo_reads_pending(user) else policy.todo_pending_ids(user)

    def build(moment: Any) -> QuerySet[Petition]:
        todo = {"now": moment} if tab == "todo" else {}
        if pending is not None:
            todo["pending_ids"] = pending
        return _tab_rows(user, tab, sort, **todo)

    key = ("worklist", user.pk, scope_for(user), tab, sort, pending)
    kept = kept_list(key, build, now, count_limit=COUNT_CAP + 1)
    return None if kept is None else KeptRows(kept, now, window)


def _page_size(request: HttpRequest) -> int:
    raw = request.GET.get("per_page", "")
    return next((size for size in PAGE_SIZES if raw == str(size)), PAGE_SIZES[0])


def _list_context(request: HttpRequest, filterset: WorklistFilter, sort: str) -> dict[str, Any]:
    params = request.GET.copy()
    params.pop("page", None)
    tab = filterset.shown_tab
    return {
        "filter": filterset,
        # Built when read: a tab's plain view draws its filter box from the keep (_worklist_head.html).
        "form": SimpleLazyObject(lambda: filterset.form),
        "categories_version": categories_version(),
        "tab": tab,
        "tabs": [
            (value, label)
            for value, label in WORKLIST_TABS
            if value not in DISTRICT_TABS or sees_sweep_failures(request.user)
        ],
        "sort": sort,
        "sorts": list(SORT_LABELS.items()),
        "page_sizes": PAGE_SIZES,
        "area": filterset.area_chosen,
        "query": params.urlencode(),
        "query_without_tab": _without(params, "tab"),
        "query_without_area": _without(params, "area"),
        "filters_used": any(
            params.get(name)
            for name in (
                "q",
                "status",
                "category",
                "channel",
                "tier",
                "area",
                "created_from",
                "created_to",
                "overdue",
                "supervised",
                "handler",
            )
        ),
    }


@lru_cache(maxsize=8)
def _list_prefix(script_prefix: str) -> str:
    """The list's URL, which each row's link extends with its number (per script prefix)."""
    return reverse("appeals:list")


@login_required
def petition_list(request: HttpRequest) -> HttpResponse:
    if not scope_for(request.user).is_staff_member:
        return redirect("appeals:mine")
    now = timezone.now()
    filterset = WorklistFilter(request.GET, request=request)
    sort = _sort(request)
    petitions: Any = None
    per_page = _page_size(request)
    if filterset.plain_tab is not None:
        # The page asked for is read with the count (one statement); another page on its own.
        number = request.GET.get("page", "1")
        plain_number = number.isascii() and number.isdigit() and len(number) <= 6
        in_range = plain_number and 1 <= int(number) <= COUNT_CAP // per_page + 1
        window = ((int(number) - 1) * per_page, per_page) if in_range else None
        petitions = _kept_tab_rows(request.user, filterset.plain_tab, sort, now, window)
    if petitions is None:
        filterset, petitions, sort = _worklist(request, rows=True)
    page = CappedPaginator(petitions, per_page).get_page(request.GET.get("page"))
    labels = row_labels()
    detail_prefix = _list_prefix(get_script_prefix())
    tab = filterset.shown_tab
    rows = []
    user = request.user
    accept_sources = TRANSITIONS["accept"].sources
    petitions_shown = list(page)
    categories = categories_by_id({p.category_id for p in petitions_shown if p.category_id})
    departments = department_names({p.handler_department_id for p in petitions_shown if p.handler_department_id})
    for petition in petitions_shown:
        # 签收 is offered where the policy allows it; its rule reads no department parts or
        # extensions, so the row's empty Facts cost no query (the service asks again when acting).
        # A state that does not allow the move is ruled out first: `decide` would say the same
        # through a translated refusal built for every such row.
        can_accept = (
            petition.status in accept_sources and policy.decide(user, "accept", petition, facts=policy.Facts()).allowed
        )
        sla = sla_for(petition, now)
        html = row_html(
            petition,
            sla,
            can_accept=can_accept,
            labels=labels,
            detail_prefix=detail_prefix,
            tab=tab,
            categories=categories,
            departments=departments,
        )
        rows.append({"petition": petition, "sla": sla, "can_accept": can_accept, "html": html})
    context = _list_context(request, filterset, sort)
    context.update(
        {
            "page": page,
            "rows": rows,
            "per_page": page.paginator.per_page,
            "any_acceptable": any(row["can_accept"] for row in rows),
            "may_clear_sweeps": tab == "sweep_failed" and bool(rows) and sees_sweep_failures(user),
            "count_text": f"{page.paginator.count:,}",
            "count_words": ngettext("%(n)s petition", "%(n)s petitions", page.paginator.count)
            % {"n": page.paginator.count},
        }
    )
    return render(request, "appeals/petition_list.html", context)


@login_required
def petition_map(request: HttpRequest) -> HttpResponse:
    """The same filtered list as points on a map (at most MAP_MAX_POINTS, newest first by the list's sort)."""
    if not scope_for(request.user).is_staff_member:
        return redirect("appeals:mine")
    filterset, petitions, sort = _worklist(request)
    located = list(
        petitions.filter(lon__isnull=False, lat__isnull=False).values_list(
            "tracking_no", "title", "status", "lon", "lat", "deadline_at", "escalated_on_deadline"
        )[: MAP_MAX_POINTS + 1]
    )
    now = timezone.now()
    timed = set(TIMED_STATUSES)
    labels = dict(Status.choices)
    points = [
        {
            "no": no,
            "title": mask_text(title),
            "status": str(labels.get(status, status)),
            "lon": lon,
            "lat": lat,
            "late": status in timed and ((deadline is not None and deadline <= now) or (deadline is None and late)),
            "url": reverse("appeals:detail", args=[no]),
        }
        for no, title, status, lon, lat, deadline, late in located[:MAP_MAX_POINTS]
    ]
    context = _list_context(request, filterset, sort)
    # The boundaries under the chosen area, or under the user's one area, as the map's background.
    scope = scope_for(request.user)
    code = filterset.area_chosen.code if filterset.area_chosen else None
    if code is None and len(scope.area_paths) == 1:
        code = scope.area_paths[0].rstrip("/").rsplit("/", 1)[-1]
    context.update(
        {
            "points": points,
            "capped": len(located) > MAP_MAX_POINTS,
            "map_max": f"{MAP_MAX_POINTS:,}",
            "boundary_url": reverse("grids:area_children_geojson", args=[code]) if code else "",
        }
    )
    return render(request, "appeals/petition_map.html", context)


@login_required
def petition_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as XLSX: masked by role, every row access-logged, formulas escaped."""
    if not scope_for(request.user).is_staff_member:
        raise Http404
    filterset, petitions, _sort = _worklist(request)
    if filterset.has_errors:
        messages.error(request, _("Correct the filter before exporting."))
        return redirect(f"{reverse('appeals:list')}?{request.GET.urlencode()}")
    count, exact = capped_count(petitions, EXPORT_MAX_ROWS)
    if not exact:
        messages.error(
            request,
            _("More than %(n)s petitions match: narrow the filter to export them.") % {"n": f"{EXPORT_MAX_ROWS:,}"},
        )
        return redirect(f"{reverse('appeals:list')}?{request.GET.urlencode()}")
    body = worklist_xlsx(request.user, petitions.iterator(chunk_size=1000), request=request)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="petitions-{stamp}.xlsx"'
    return response


@login_required
def petition_area_picker(request: HttpRequest) -> HttpResponse:
    """The area picker's tree (htmx swaps it in as the user types): only the user's subtrees."""
    if not scope_for(request.user).is_staff_member:
        raise Http404
    text = (request.GET.get("area_q") or "")[:50]
    params = request.GET.copy()
    for key in ("area_q", "page", "area"):
        params.pop(key, None)
    return render(
        request,
        "appeals/_area_tree.html",
        {
            "nodes": areas_for_picker(request.user, text),
            "searching": bool(text.strip()),
            "query_without_area": params.urlencode(),
        },
    )


@login_required
@require_POST
def petition_sweep_clear(request: HttpRequest) -> HttpResponse:
    """The district centre fixed what made the sweeps fail on its petitions: they take them again
    (the worklist's 扫描失败 tab). Only the petitions the user sees; logged with who and which."""
    if not scope_for(request.user).is_staff_member:
        raise Http404
    if not sees_sweep_failures(request.user):
        raise PermissionDenied
    ids = list(
        petitions_visible_to(request.user).filter(sweep_failed_at__isnull=False).values_list("pk", flat=True)[:BULK_MAX]
    )
    count = petition_sweep_failure_clear(petition_ids=ids)
    logger.info("sweep failures cleared by user %s: petitions %s", request.user.pk, ids)
    messages.success(
        request,
        ngettext("%(n)s petition goes back to the sweeps.", "%(n)s petitions go back to the sweeps.", count)
        % {"n": count},
    )
    return redirect(f"{reverse('appeals:list')}?tab=sweep_failed")


@login_required
@require_POST
def petition_bulk_accept(request: HttpRequest) -> HttpResponse:
    """签收 of the ticked rows, each through the same policy and service as the single accept, each
    in its own transaction: one refusal does not undo the others. Answers with a result per row."""
    if not scope_for(request.user).is_staff_member:
        raise Http404
    numbers = list(dict.fromkeys(n.strip() for n in request.POST.getlist("petition") if n.strip()))[:BULK_MAX]
    back = request.POST.get("next", "")
    if not back.startswith("?"):
        back = ""
    if not numbers:
        messages.error(request, _("Tick the petitions to accept first."))
        return redirect(f"{reverse('appeals:list')}{back}")
    found = {
        p.tracking_no: p
        for p in petitions_visible_to(request.user)
        .select_related("handler_area")
        .defer(*LIST_DEFERRED)
        .filter(tracking_no__in=numbers)
    }
    results = []
    for number in numbers:
        petition = found.get(number)
        if petition is None:  # a number not offered to this user: refused without echoing it
            results.append({"no": "", "ok": False, "message": _("Not found in your area.")})
            continue
        try:
            action_perform("accept", petition=petition, actor=request.user, data={})
        except DomainError as error:
            results.append({"no": number, "title": petition.title, "ok": False, "message": error.message})
        else:
            results.append({"no": number, "title": petition.title, "ok": True, "message": _("Accepted.")})
    done = sum(1 for row in results if row["ok"])
    return render(
        request,
        "appeals/petition_bulk_result.html",
        {"results": results, "done": done, "refused": len(results) - done, "back": back},
    )


def _without(params: Any, key: str) -> str:
    params = params.copy()
    params.pop(key, None)
    return params.urlencode()


def _detail_action_forms(
    request: HttpRequest, petition: Petition, bound: tuple[str, Any] | None
) -> list[dict[str, Any]]:
    """One short form per action the policy allows now (the service asks it again when acting)."""
    user = request.user
    action_forms = []
    for name in policy.actions_for(user, petition, facts=policy.facts_for(petition)):
        entry = REGISTRY[name]
        if bound and bound[0] == name:
            form = bound[1]
        else:
            form = entry.form(petition=petition, user=user, prefix=name)
            if name == "place":
                form.suggest()
            elif name == "merge" and petition.repeat_of_id:
                form.initial.setdefault("into", petition.repeat_of.tracking_no)
        action_forms.append({"name": name, "label": entry.label, "form": form})
    if bound and bound[0] not in {a["name"] for a in action_forms}:
        action_forms.insert(0, {"name": bound[0], "label": REGISTRY[bound[0]].label, "form": bound[1]})
    return action_forms


def _repeat_merges(user: Any, petition: Petition, repeats: list[Petition]) -> None:
    """Mark the repeats this user may merge into the petition (the merge rule reads no facts)."""
    for repeat in repeats:
        repeat.can_merge_here = (
            petition.status != Status.MERGED and policy.decide(user, "merge", repeat, facts=policy.Facts()).allowed
        )


def _map_data(petition: Petition) -> dict[str, Any] | None:
    """The reported point and the micro-grid (else the grid) it lies in, drawn from our own GeoJSON."""
    area = petition.microgrid or petition.grid
    point = [petition.lon, petition.lat] if petition.lon is not None and petition.lat is not None else None
    boundary = area.boundary if area is not None else None
    if point is None and boundary is None:
        return None
    return {"point": point, "boundary": boundary, "name": area.name if area is not None else ""}


def _place_map(request: HttpRequest, action_forms: list[dict[str, Any]]) -> dict[str, str] | None:
    """Placing by a click on the map: the boundaries under the user's one area, and the point lookup."""
    if not any(a["name"] in ("place", "transfer") for a in action_forms):
        return None
    scope = scope_for(request.user)
    if len(scope.area_paths) == 1:
        code = scope.area_paths[0].rstrip("/").rsplit("/", 1)[-1]
    else:
        root = Area.objects.filter(parent__isnull=True).values_list("code", flat=True).first()
        if root is None:
            return None
        code = root
    return {
        "boundary_url": reverse("grids:area_children_geojson", args=[code]),
        "locate_url": reverse("api-area-locate"),
    }


def _render_detail(
    request: HttpRequest,
    petition: Petition,
    *,
    bound: tuple[str, f.PetitionActionForm] | None = None,
    note_form: f.NoteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    prefetch_related_objects(
        [petition],
        Prefetch(
            "assignments", queryset=Assignment.objects.select_related("department").order_by("dispatched_at", "pk")
        ),
        Prefetch(
            "extensions", queryset=ExtensionRequest.objects.select_related("requested_by").order_by("-requested_at")
        ),
    )
    action_forms = _detail_action_forms(request, petition, bound)
    timeline = list(petition_timeline(petition))
    assignments = list(petition.assignments.all())
    extensions = list(petition.extensions.all())
    notes = internal_notes(petition)
    # Notes, replies and reasons are free text too: masked with the contact fields, logged when shown.
    mask = text_masker(contact_access(user, petition))
    texts = {
        "timeline": [(event, "note") for event in timeline],
        "assignments": [(assignment, "reply") for assignment in assignments],
        "extensions": [(x, "reason") for x in extensions] + [(x, "decision_note") for x in extensions],
        "internal_notes": [(note, "text") for note in notes],
    }
    for pairs in texts.values():
        for obj, attr in pairs:
            setattr(obj, f"shown_{attr}", mask(getattr(obj, attr)))
    elsewhere = [part for part, pairs in texts.items() if any(reveals_personal_data(getattr(o, a)) for o, a in pairs)]
    shown = contact_fields_for(user, petition, DETAIL_FIELDS, request=request, revealed_elsewhere=elsewhere)
    repeats = list(
        petition.repeats.select_related("handler_area")
        .order_by("-created_at")
        .only("tracking_no", "title", "status", "created_at", "handler_area", "area_path", "tier", "microgrid", "grid")[
            :20
        ]
    )
    _repeat_merges(user, petition, repeats)
    merged = list(petition.merged.order_by("-created_at").only("tracking_no", "title", "status")[:20])
    if note_form is None and policy.note_decide(user, petition):
        note_form = f.NoteForm()
    place_form = next((a for a in action_forms if a["name"] in ("place", "transfer")), None)
    if place_form is not None:
        place_form["folded"] = place_form["name"] == "transfer"
    merge_form = next((a for a in action_forms if a["name"] == "merge"), None)
    others = [a for a in action_forms if a is not place_form and a is not merge_form]
    return render(
        request,
        "appeals/petition_detail.html",
        {
            "petition": petition,
            "shown": shown,
            "phone": shown["contact_phone"],
            "contact_name": shown["contact_name"],
            "sla": sla_for(petition),
            "photos": list(petition.photos.order_by("pk")),
            "timeline": timeline_in_words(timeline),
            "assignments": assignments,
            "extensions": extensions,
            "ratings": rating_rounds(petition),
            "notes": notes,
            "note_form": note_form,
            "repeats": repeats,
            "merged": merged,
            "related_count": len(repeats) + len(merged),
            "repeat_of": petition.repeat_of,
            "merged_into": petition.merged_into,
            # Every action the policy allows (tests and the API agree on this list); the place and
            # merge forms are drawn in their own sections, the others in the action column.
            "action_forms": action_forms,
            "side_actions": others,
            "place_form": place_form,
            "merge_form": merge_form,
            "map_data": _map_data(petition),
            "manages_templates": bool(manager_districts(user)),
            "place_map": _place_map(request, action_forms),
        },
        status=status,
    )


@login_required
def petition_detail(request: HttpRequest, tracking_no: str) -> HttpResponse:
    if not scope_for(request.user).is_staff_member:
        return redirect("appeals:track_status", tracking_no=tracking_no)
    return _render_detail(request, petition_get_for_user(request.user, tracking_no=tracking_no))


@login_required
@require_POST
def petition_act(request: HttpRequest, tracking_no: str, action: str) -> HttpResponse:
    """Every staff action posts here; the registry (appeals.actions) picks the form and the service."""
    if not scope_for(request.user).is_staff_member:
        raise Http404
    petition = petition_get_for_user(request.user, tracking_no=tracking_no)
    entry = REGISTRY.get(action)
    if entry is None:
        raise Http404
    form = entry.form(request.POST, petition=petition, user=request.user, prefix=action)
    try:
        policy.require(request.user, action, petition)
    except DomainError as error:
        messages.error(request, error.message)
        return _render_detail(request, petition, bound=(action, form), status=error.http_status)
    if form.is_valid():
        try:
            action_perform(action, petition=petition, actor=request.user, data=form_data(form.cleaned_data))
        except DomainError as error:
            # A refusal that names fields is the form's error (400), whatever the API would answer.
            status = 400 if _add_service_errors(form, error) else error.http_status
            messages.error(request, error.message)
            return _render_detail(request, petition, bound=(action, form), status=status)
        messages.success(request, _("Done: %(action)s.") % {"action": entry.label})
        # A repeat merged from its master's page goes back there (a petition number, nothing else).
        back = request.POST.get("back", "")
        if back and back.isalnum() and len(back) <= 20:
            return redirect("appeals:detail", tracking_no=back)
        if not petitions_visible_to(request.user).filter(pk=petition.pk).exists():
            # Handed away out of sight (a department's return): back to the worklist, not a 404.
            return redirect("appeals:list")
        return redirect("appeals:detail", tracking_no=tracking_no)
    messages.error(request, _("Please correct the errors below."))
    return _render_detail(request, petition, bound=(action, form), status=400)


@login_required
@require_POST
def petition_note(request: HttpRequest, tracking_no: str) -> HttpResponse:
    """An internal note (内部备注): staff who can see the petition; residents never see it."""
    if not scope_for(request.user).is_staff_member:
        raise Http404
    petition = petition_get_for_user(request.user, tracking_no=tracking_no)
    form = f.NoteForm(request.POST)
    if form.is_valid():
        try:
            note_services.petition_note_add(petition_id=petition.pk, actor=request.user, text=form.cleaned_data["text"])
        except DomainError as error:
            status = 400 if _add_service_errors(form, error) else error.http_status
            messages.error(request, error.message)
            return _render_detail(request, petition, note_form=form, status=status)
        messages.success(request, _("The internal note was saved."))
        return redirect(f"{reverse('appeals:detail', args=[tracking_no])}#notes")
    messages.error(request, _("Please correct the errors below."))
    return _render_detail(request, petition, note_form=form, status=400)


# --- Reply templates (the district centre) -------------------------------------------------------


def _template_manager(request: HttpRequest) -> list[int]:
    districts = manager_districts(request.user)
    if not districts:
        raise Http404
    return districts


def _reply_template_posted(request: HttpRequest, form: f.ReplyTemplateForm, template_id: int | None = None):
    """Save a posted template form: a redirect to the list when saved, else None (the form holds why)."""
    if form.is_valid():
        try:
            reply_template_save(actor=request.user, template_id=template_id, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The reply template was saved."))
            return redirect("appeals:reply_templates")
    return None


@login_required
def reply_templates(request: HttpRequest) -> HttpResponse:
    """The district centre's reply templates: the list and a form for a new one."""
    districts = _template_manager(request)
    sees_all = scope_for(request.user).sees_all
    form = f.ReplyTemplateForm(districts=districts, sees_all=sees_all)
    if len(districts) == 1:
        form.initial["district"] = districts[0]
    status = 200
    if request.method == "POST":
        form = f.ReplyTemplateForm(request.POST, districts=districts, sees_all=sees_all)
        if saved := _reply_template_posted(request, form):
            return saved
        status = 400
    templates = list(reply_templates_managed_by(request.user))
    return render(
        request,
        "appeals/reply_templates.html",
        {"templates": templates, "form": form, "count": len(templates)},
        status=status,
    )


@login_required
def reply_template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    districts = _template_manager(request)
    sees_all = scope_for(request.user).sees_all
    template = reply_templates_managed_by(request.user).filter(pk=template_id).first()
    if template is None or (template.district_id is None and not sees_all):
        raise Http404
    initial = {
        "district": template.district_id,
        "category": str(template.category_id or ""),
        "title": template.title,
        "text": template.text,
        "is_active": template.is_active,
    }
    form = f.ReplyTemplateForm(initial=initial, districts=districts, sees_all=sees_all)
    status = 200
    if request.method == "POST":
        form = f.ReplyTemplateForm(request.POST, districts=districts, sees_all=sees_all)
        if saved := _reply_template_posted(request, form, template.pk):
            return saved
        status = 400
    return render(request, "appeals/reply_template_edit.html", {"template": template, "form": form}, status=status)


@login_required
def petition_photo(request: HttpRequest, tracking_no: str, photo_id: int) -> FileResponse:
    """Photos go through the petition's scope, never a public media URL."""
    petition = petition_get_for_user(request.user, tracking_no=tracking_no)
    photo = petition.photos.filter(pk=photo_id).first()
    if photo is None:
        raise Http404
    return FileResponse(photo.image.open("rb"))
