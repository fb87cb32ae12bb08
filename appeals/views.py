"""Server-rendered petition pages: the resident's mobile form and tracking, and the staff desk.

Every page parses input, calls one selector or service (the same ones the API uses) and renders.
Resident pages work without JavaScript: plain forms, POST → redirect → GET.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from appeals import forms as f
from appeals.actions import action_perform
from appeals.lifecycle import TRANSITIONS, allowed_actions
from appeals.models import (
    Assignment,
    AssignmentStatus,
    Channel,
    EventType,
    ExtensionStatus,
    Petition,
    PetitionPhoto,
    Status,
    Tier,
)
from appeals.privacy import contact_fields_for
from appeals.selectors import (
    LIST_DEFERRED,
    petition_get_by_tracking,
    petition_get_for_user,
    petition_timeline,
    petitions_visible_to,
)
from appeals.services import (
    petition_rate,
    petition_reopen,
    petition_submit,
)
from appeals.services.handling import user_can_decide_extensions
from governance.errors import DomainError
from governance.models import Role
from governance.scoping import Scope, scope_for

logger = logging.getLogger(__name__)

PAGE_SIZE = 20
# The session remembers which petitions this browser proved it may follow (tracking no → phone).
TRACKED_SESSION_KEY = "appeals_tracked"
SUBMITTED_SESSION_KEY = "appeals_submitted"
MAX_TRACKED = 20
# What a resident sees of the timeline: outcomes, never who inside did what or internal notes.
RESIDENT_EVENTS = frozenset(
    {
        EventType.SUBMITTED,
        EventType.ROUTED,
        EventType.PLACED,
        EventType.ACCEPTED,
        EventType.HANDLING,
        EventType.ESCALATED,
        EventType.WHISTLED,
        EventType.RESOLVED,
        EventType.RATED,
        EventType.REOPENED,
        EventType.CLOSED,
        EventType.MERGED,
    }
)
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
            except DomainError as error:
                if not _add_service_errors(form, error, SUBMIT_FIELD_MAP):
                    form.add_error(None, error.message)
            else:
                petition = submission.petition
                if not submission.created and petition.contact_phone != _normalized_phone(data["contact_phone"]):
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


def _normalized_phone(phone: str) -> str:
    """The phone as petition_submit stores it."""
    return re.sub(r"[\s()（）]", "", phone or "").removeprefix("+86")


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
    if not tracking_no:
        return redirect("appeals:new")
    return render(request, "appeals/petition_submitted.html", {"tracking_no": tracking_no})


def _remember_tracked(request: HttpRequest, petition: Petition) -> None:
    tracked = dict(request.session.get(TRACKED_SESSION_KEY, {}))
    tracked.pop(petition.tracking_no, None)
    tracked[petition.tracking_no] = petition.contact_phone
    # Keep the session small: the most recently followed petitions only.
    request.session[TRACKED_SESSION_KEY] = dict(list(tracked.items())[-MAX_TRACKED:])


def petition_track(request: HttpRequest) -> HttpResponse:
    """Find a petition by tracking number and phone; both must match, failures look alike."""
    if request.method == "POST":
        form = f.TrackForm(request.POST)
        if form.is_valid():
            try:
                petition = petition_get_by_tracking(
                    tracking_no=form.cleaned_data["tracking_no"], contact_phone=form.cleaned_data["contact_phone"]
                )
            except Http404:
                form.add_error(None, _("No petition matches this tracking number and phone number."))
            else:
                _remember_tracked(request, petition)
                return redirect("appeals:track_status", tracking_no=petition.tracking_no)
    else:
        form = f.TrackForm(initial={"tracking_no": request.GET.get("no", "")})
    return render(request, "appeals/track_form.html", {"form": form}, status=400 if form.errors else 200)


def _tracked_petition(request: HttpRequest, tracking_no: str) -> tuple[Petition, str | None]:
    """The petition this browser may follow: proved by phone earlier, or filed by the logged-in user."""
    phone = request.session.get(TRACKED_SESSION_KEY, {}).get(tracking_no)
    if phone:
        return petition_get_by_tracking(tracking_no=tracking_no, contact_phone=phone), phone
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
        petition, _phone = _tracked_petition(request, tracking_no)
    except Http404:
        return redirect(f"{reverse('appeals:track')}?no={tracking_no}")
    return _render_status(request, petition)


def _render_status(request: HttpRequest, petition: Petition, *, rate_form=None, reopen_form=None, status: int = 200):
    timeline = [e for e in petition_timeline(petition) if e.type in RESIDENT_EVENTS]
    can_rate = petition.status == Status.RESOLVED and not petition.rating
    can_reopen = petition.status == Status.RESOLVED and petition.rating in ("", "unsatisfied")
    return render(
        request,
        "appeals/track_status.html",
        {
            "petition": petition,
            "timeline": timeline,
            "rate_form": rate_form or (f.RateForm() if can_rate else None),
            "reopen_form": reopen_form or (f.ReopenForm() if can_reopen else None),
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
    actor = request.user if request.user.is_authenticated and petition.submitter_id == request.user.pk else None
    form = f.RateForm(request.POST) if action == "rate" else f.ReopenForm(request.POST)
    if form.is_valid():
        try:
            if action == "rate":
                petition_rate(
                    petition_id=petition.pk,
                    rating=form.cleaned_data["rating"],
                    note=form.cleaned_data["note"],
                    actor=actor,
                    contact_phone=phone,
                )
                messages.success(request, _("Thank you for your rating."))
            else:
                petition_reopen(
                    petition_id=petition.pk, reason=form.cleaned_data["reason"], actor=actor, contact_phone=phone
                )
                messages.success(request, _("Your petition was reopened; the handling unit will look at it again."))
            return redirect("appeals:track_status", tracking_no=tracking_no)
        except DomainError as error:
            messages.error(request, error.message)
    forms_kw = {"rate_form": form} if action == "rate" else {"reopen_form": form}
    return _render_status(request, petition, status=400, **forms_kw)


@login_required
def petition_mine(request: HttpRequest) -> HttpResponse:
    petitions = Petition.objects.filter(submitter=request.user).select_related("category").order_by("-created_at")
    page = Paginator(petitions, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "appeals/petition_mine.html", {"page": page})


# --- Staff desk ----------------------------------------------------------------------------------

OPEN_ASSIGNMENT = [AssignmentStatus.DISPATCHED, AssignmentStatus.REPORTED_IN]


def _tab_condition(tab: str, scope: Scope) -> Q:
    if tab == "pending":
        return Q(status__in=[Status.ASSIGNED, Status.INTAKE, Status.RETURNED])
    if tab == "done":
        return Q(status__in=[Status.RESOLVED, Status.CLOSED])
    if tab == "supervised":
        return Q(supervised=True)
    if tab == "todo":
        mine = Q(pk__in=[])
        if scope.area_paths:
            mine |= Q(handler_area__path__in=scope.area_paths)
        if scope.department_ids:
            mine |= Q(
                Exists(
                    Assignment.objects.filter(
                        petition=OuterRef("pk"), department_id__in=scope.department_ids, status__in=OPEN_ASSIGNMENT
                    )
                )
            )
        if scope.sees_all:
            mine = Q()
        return mine & Q(
            status__in=[s for s in Status.values if s not in (Status.RESOLVED, Status.CLOSED, Status.MERGED)]
        )
    return Q()


def _filtered(queryset: QuerySet[Petition], form: f.ListFilterForm, scope: Scope) -> QuerySet[Petition]:
    data = form.cleaned_data if form.is_valid() else {}
    queryset = queryset.filter(_tab_condition(data.get("tab") or "todo", scope))
    if data.get("status"):
        queryset = queryset.filter(status=data["status"])
    if data.get("tier"):
        queryset = queryset.filter(tier=data["tier"])
    if data.get("category"):
        queryset = queryset.filter(category_id=data["category"])
    if data.get("overdue"):
        queryset = queryset.filter(overdue=True)
    if data.get("supervised"):
        queryset = queryset.filter(supervised=True)
    if q := (data.get("q") or "").strip():
        queryset = queryset.filter(Q(tracking_no=q) | Q(title__icontains=q) | Q(address__icontains=q))
    return queryset


@login_required
def petition_list(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    if not scope.is_staff_member:
        return redirect("appeals:mine")
    form = f.ListFilterForm(request.GET)
    petitions = (
        _filtered(petitions_visible_to(request.user), form, scope)
        .select_related("category", "handler_area", "handler_department")
        .defer(*LIST_DEFERRED)
        .order_by("-created_at", "-pk")
    )
    page = Paginator(petitions, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    tab = form.cleaned_data.get("tab") if form.is_valid() else ""
    return render(
        request,
        "appeals/petition_list.html",
        {
            "form": form,
            "page": page,
            "tab": tab or "todo",
            "tabs": f.ListFilterForm.TABS,
            "query": params.urlencode(),
            "query_without_tab": _without(params, "tab"),
        },
    )


def _without(params: Any, key: str) -> str:
    params = params.copy()
    params.pop(key, None)
    return params.urlencode()


@dataclass(frozen=True)
class Action:
    form: type[f.PetitionActionForm]
    # Who gets the form on the page (the service still decides): "area", "department" or "upper".
    audience: str = "area"


# The page's forms; `appeals.actions` maps each action to its service, for the API too.
ACTIONS: dict[str, Action] = {
    "accept": Action(f.EmptyActionForm),
    "handle": Action(f.HandleForm),
    "note_progress": Action(f.RequiredNoteActionForm),
    "reply": Action(f.ReplyForm),
    "escalate": Action(f.EscalateForm),
    "return": Action(f.ReturnForm),
    "place": Action(f.PlaceForm),
    "whistle": Action(f.WhistleForm),
    "report_in": Action(f.DepartmentActionForm, audience="department"),
    "department_reply": Action(f.DepartmentReplyForm, audience="department"),
    "ask_extension": Action(f.AskExtensionForm),
    "decide_extension": Action(f.DecideExtensionForm, audience="upper"),
    "urge": Action(f.NoteActionForm, audience="upper"),
    "supervise": Action(f.NoteActionForm, audience="upper"),
    "reopen": Action(f.ReopenActionForm),
    "callback": Action(f.CallbackForm),
    "close": Action(f.NoteActionForm),
    "merge": Action(f.MergeForm),
}


def _canonical(cleaned: dict[str, Any]) -> dict[str, Any]:
    """The forms' field names as `appeals.actions` expects them."""
    data = dict(cleaned)
    if "lead" in data:
        data["lead_department"] = data.pop("lead")
        data["assisting_departments"] = data.pop("assisting", [])
    if "decision" in data:
        data["grant"] = data.pop("decision") == "grant"
    return data


def _visible_actions(petition: Petition, user: Any, scope: Scope, case_departments: set[int]) -> list[str]:
    names = []
    for name in allowed_actions(petition.status):
        action = ACTIONS.get(name)
        if action is None:
            continue
        if action.audience == "department" and not (scope.sees_all or case_departments & set(scope.department_ids)):
            continue
        if action.audience == "area" and not (scope.sees_all or scope.area_paths):
            # Departments return dispatched cases; everything else here belongs to area staff.
            if not (name == "return" and case_departments & set(scope.department_ids)):
                continue
        if name == "whistle" and not (
            (petition.tier or 0) >= Tier.STREET
            and (scope.sees_all or scope.has_role(Role.STREET_COMMAND, Role.DISTRICT_CENTRE))
        ):
            continue
        if action.audience == "upper" and not user_can_decide_extensions(user, petition):
            continue
        if name == "decide_extension" and not petition.extensions.filter(status=ExtensionStatus.PENDING).exists():
            continue
        names.append(name)
    return names


def _render_detail(
    request: HttpRequest,
    petition: Petition,
    *,
    bound: tuple[str, f.PetitionActionForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    scope = scope_for(user)
    assignments = list(petition.assignments.select_related("department").order_by("dispatched_at", "pk"))
    case_departments = {a.department_id for a in assignments if a.status != AssignmentStatus.CANCELLED}
    action_forms = []
    for name in _visible_actions(petition, user, scope, case_departments):
        if bound and bound[0] == name:
            form = bound[1]
        else:
            form = ACTIONS[name].form(petition=petition, user=user, prefix=name)
        action_forms.append({"name": name, "label": TRANSITIONS[name].label, "form": form})
    if bound and bound[0] not in {a["name"] for a in action_forms}:
        action_forms.insert(0, {"name": bound[0], "label": TRANSITIONS[bound[0]].label, "form": bound[1]})
    contact = contact_fields_for(user, petition, ("contact_phone", "contact_name"))
    return render(
        request,
        "appeals/petition_detail.html",
        {
            "petition": petition,
            "phone": contact["contact_phone"],
            "contact_name": contact["contact_name"],
            "photos": list(petition.photos.order_by("pk")),
            "timeline": petition_timeline(petition),
            "assignments": assignments,
            "extensions": list(petition.extensions.select_related("requested_by").order_by("-requested_at")),
            "repeats": list(petition.repeats.order_by("-created_at").only("tracking_no", "title", "status")[:20]),
            "merged": list(petition.merged.order_by("-created_at").only("tracking_no", "title", "status")[:20]),
            "repeat_of": petition.repeat_of,
            "merged_into": petition.merged_into,
            "action_forms": action_forms,
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
    """Every staff action posts here; the ACTIONS table picks the form and the service."""
    if not scope_for(request.user).is_staff_member:
        raise Http404
    petition = petition_get_for_user(request.user, tracking_no=tracking_no)
    entry = ACTIONS.get(action)
    if entry is None:
        raise Http404
    form = entry.form(request.POST, petition=petition, user=request.user, prefix=action)
    if form.is_valid():
        try:
            action_perform(action, petition=petition, actor=request.user, data=_canonical(form.cleaned_data))
        except DomainError as error:
            # A refusal that names fields is the form's error (400), whatever the API would answer.
            status = 400 if _add_service_errors(form, error) else error.http_status
            messages.error(request, error.message)
            return _render_detail(request, petition, bound=(action, form), status=status)
        messages.success(request, _("Done: %(action)s.") % {"action": TRANSITIONS[action].label})
        return redirect("appeals:detail", tracking_no=tracking_no)
    messages.error(request, _("Please correct the errors below."))
    return _render_detail(request, petition, bound=(action, form), status=400)


@login_required
def petition_photo(request: HttpRequest, tracking_no: str, photo_id: int) -> FileResponse:
    """Photos go through the petition's scope, never a public media URL."""
    petition = petition_get_for_user(request.user, tracking_no=tracking_no)
    photo = petition.photos.filter(pk=photo_id).first()
    if photo is None:
        raise Http404
    return FileResponse(photo.image.open("rb"))
