"""设置: the reference pages staff read instead of the Django admin (administrators only now).

Categories and time limits (appeals/reference_views.py, the taxonomy lives in appeals), the working
calendar, the department directory, the staff of one's subtree and, for the district centre, the
access log. Each list goes through the user's scope (governance/reference_selectors.py); nothing
here writes: administrators change these tables in the admin.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlencode

from django import forms
from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.identity import person_name
from governance.models import AccessReason, DepartmentKind, Role
from governance.pagination import COUNT_CAP
from governance.reference_selectors import (
    access_log_rows,
    calendar_missing_years,
    calendar_year,
    calendar_years,
    department_directory,
    may_read_access_log,
    staff_directory,
)
from governance.scoping import scope_for
from governance.workcalendar import CALENDAR_TZ

PAGE_SIZE = 50
SEARCH_MAX = 64


class CappedPaginator(Paginator):
    """Counts at most COUNT_CAP rows (the access log grows without end); the pager says "N+" above."""

    count_exact = True

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        counted = self.object_list.order_by()[: COUNT_CAP + 1].count()
        self.count_exact = counted <= COUNT_CAP
        return min(counted, COUNT_CAP)


def require_staff(request: HttpRequest) -> None:
    """Members of staff only: residents hold no post and get a 403 (visitors the login, by login_required)."""
    if not scope_for(request.user).is_staff_member:
        raise PermissionDenied(_("Only staff can open the settings pages."))


def _query(request: HttpRequest, *names: str) -> str:
    """The filter part of the query string, for the pager's links."""
    return urlencode({name: request.GET[name] for name in names if request.GET.get(name)})


def sections(request: HttpRequest) -> list[dict]:
    """The tabs of the settings section this user may open."""
    items = [
        ("reference:categories", gettext_lazy("Categories and time limits")),
        ("reference:calendar", gettext_lazy("Working calendar")),
        ("reference:departments", gettext_lazy("Departments")),
        ("reference:staff", gettext_lazy("Staff")),
    ]
    if may_read_access_log(request.user):
        items.append(("reference:access_log", gettext_lazy("Access log")))
    return [{"name": name, "label": label} for name, label in items]


def _render(request: HttpRequest, template: str, context: dict, *, current: str) -> HttpResponse:
    return render(request, template, {"sections": sections(request), "current": current, **context})


@login_required
def index(request: HttpRequest) -> HttpResponse:
    require_staff(request)
    years, unmaintained = calendar_missing_years()
    return _render(
        request,
        "governance/reference_index.html",
        {"missing_swaps": years, "unmaintained": unmaintained, "is_admin": scope_for(request.user).sees_all},
        current="",
    )


@login_required
def calendar(request: HttpRequest) -> HttpResponse:
    require_staff(request)
    years = calendar_years()
    this_year = timezone.localdate(timezone=CALENDAR_TZ).year
    try:
        year = int(request.GET.get("year", this_year))
    except ValueError:
        year = this_year
    if year not in years:
        year = this_year
    missing, unmaintained = calendar_missing_years()
    return _render(
        request,
        "governance/reference_calendar.html",
        {
            "years": years,
            "cal": calendar_year(year),
            "missing_swaps": missing,
            "unmaintained": unmaintained,
        },
        current="reference:calendar",
    )


@login_required
def departments(request: HttpRequest) -> HttpResponse:
    require_staff(request)
    q = request.GET.get("q", "").strip()[:SEARCH_MAX]
    kind = request.GET.get("kind", "")
    groups = department_directory(request.user, q=q, kind=kind)
    return _render(
        request,
        "governance/reference_departments.html",
        {
            "groups": groups,
            "count": sum(len(group["rows"]) for group in groups),
            "q": q,
            "kind": kind,
            "kinds": DepartmentKind.choices,
        },
        current="reference:departments",
    )


@login_required
def staff(request: HttpRequest) -> HttpResponse:
    require_staff(request)
    q = request.GET.get("q", "").strip()[:SEARCH_MAX]
    role = request.GET.get("role", "")
    active = request.GET.get("active", "1")
    queryset = staff_directory(request.user, q=q, role=role, active=active)
    page = CappedPaginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"post": post, "name": person_name(post.user)} for post in page]
    return _render(
        request,
        "governance/reference_staff.html",
        {
            "page": page,
            "rows": rows,
            "q": q,
            "role": role,
            "active": active,
            "roles": Role.choices,
            "query": _query(request, "q", "role", "active"),
        },
        current="reference:staff",
    )


class AccessLogFilter(forms.Form):
    user = forms.CharField(label=gettext_lazy("User name"), required=False, max_length=150)
    reason = forms.ChoiceField(
        label=gettext_lazy("Kind"), required=False, choices=[("", gettext_lazy("All")), *AccessReason.choices]
    )
    record = forms.CharField(label=gettext_lazy("Record number"), required=False, max_length=64)
    since = forms.DateField(label=gettext_lazy("From date"), required=False)
    until = forms.DateField(label=gettext_lazy("To date"), required=False)

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end date is before the start date."))
        return data


@lru_cache(maxsize=256)
def _model(label: str):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def model_label(label: str) -> str:
    """`appeals.petition` → the model's verbose name (诉求); the label if the model is gone."""
    model = _model(label)
    return str(model._meta.verbose_name) if model is not None else label


def field_label(label: str, name: str) -> str:
    """A logged field's verbose name (联系电话), else its name (`timeline` is no model field)."""
    model = _model(label)
    try:
        return str(model._meta.get_field(name).verbose_name) if model is not None else name
    except FieldDoesNotExist:
        return name


@login_required
def access_log(request: HttpRequest) -> HttpResponse:
    """Who saw whose personal data unmasked, or exported it: the district centre and administrators.

    Reading the log shows no personal data (record numbers, field names, users), so it is not
    itself logged.
    """
    if not may_read_access_log(request.user):
        raise PermissionDenied(_("Only the district centre and administrators read the access log."))
    form = AccessLogFilter(request.GET or None)
    filters = {}
    if form.is_bound:
        form.is_valid()
        # A bad field is reported on the form; the valid ones still filter.
        data = {name: value for name, value in getattr(form, "cleaned_data", {}).items() if name not in form.errors}
        filters = {
            "user_q": (data.get("user") or "").strip(),
            "reason": data.get("reason") or "",
            "record": (data.get("record") or "").strip(),
            "since": data.get("since"),
            "until": data.get("until"),
        }
    queryset = access_log_rows(**filters).select_related("user")
    page = CappedPaginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "entry": entry,
            "who": person_name(entry.user) if entry.user_id and entry.user else entry.actor,
            "fields": [field_label(entry.model, name) for name in entry.fields.split(",") if name],
            "kind": model_label(entry.model),
            "at": timezone.localtime(entry.at),
        }
        for entry in page
    ]
    return _render(
        request,
        "governance/reference_access_log.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": _query(request, "user", "reason", "record", "since", "until"),
        },
        current="reference:access_log",
    )
