"""政策找人 pages: the finder (conditions → count and list), its live count, saved policies, contacts
and the XLSX exports (docs/residents-finder.md).

Every page parses input, asks `residents.finder` (reads) or `residents.finder_services` (writes) and
renders. Without JavaScript the finder is a plain GET form that shows the count and the list; with
htmx the count follows every change of a condition.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterable

# The standard library's escape: Django's is the same on a str, wrapped to accept lazy strings and
# mark its result safe, which costs more than the escaping over the hundreds of values a page draws.
from html import escape
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.db.models import Count, Max, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from governance.accesslog import AccessRecord, access_log_write, access_record
from governance.errors import DomainError
from governance.exports import safe_row
from governance.models import AccessReason
from governance.privacy import mask_name, mask_phone, mask_text, shown_text
from governance.scoping import Scope, scope_for
from residents.finder import (
    FinderQuery,
    FoundResident,
    conditions_as_query_data,
    contacts_visible_condition,
    count_and_page_ids,
    describe_query,
    finder_allowed,
    finder_page,
    finder_page_of_ids,
    finder_residents,
    finder_residents_count,
    found_by_lookup_lists,
    page_of,
    policies_visible_to,
    policy_contacted,
    policy_contacts_visible,
    policy_get_for_user,
    policy_left,
    policy_query,
    reveals,
)
from residents.finder_forms import ContactForm, FinderForm, PolicyForm, finder_choices
from residents.finder_services import policy_contact_record, policy_create
from residents.models import Gender, Registration, Resident, ResidentTag, age_on
from residents.models.policy import PolicyContact
from residents.policy import UNMASK_ROLES

PAGE_SIZE = 20
# A note is cut to this many characters in the list (in full on the resident's page).
NOTE_CHARS = 40
# An export beyond this many residents is refused: narrow the conditions (a community's whole
# population fits; a district-wide list is not a calling list).
EXPORT_MAX = 20_000
EXPORT_BATCH = 2_000
TABS = ("left", "contacted", "all")
# get_gender_display() and get_registration_display() hash every (lazy) choice label on each call;
# a page calls them for every row. The same labels from dicts built once (translated when shown).
GENDER_LABELS = dict(Gender.choices)
REGISTRATION_LABELS = dict(Registration.choices)
# What a revealed row of the finder's list shows in full (the access log's `fields`).
REVEALED_FIELDS = ("name", "phone", "notes")
EXPORT_FULL_FIELDS = ("name", "id_number", "phone", "notes")


def _scope_or_403(request: HttpRequest) -> Scope:
    if not finder_allowed(request.user):
        raise PermissionDenied(_("The policy finder is for staff posted to an area."))
    return scope_for(request.user)


def _requested_page(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


def _page_number(request: HttpRequest, count: int) -> tuple[int, int]:
    pages = max(1, math.ceil(count / PAGE_SIZE))
    return min(_requested_page(request), pages), pages


def _rows(
    request: HttpRequest, *, count: int, page: Callable[[int], list[FoundResident]]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page of residents as shown to this reader, and the pager's facts; `page(start)` reads
    the page's residents (residents.finder: finder_page, finder_page_of_ids, page_of).

    Masked unless the page was asked to reveal (`reveal=1`) and the reader may see the resident
    unmasked (residents.policy); each row then shown in full is access-logged, in one statement."""
    asked = request.GET.get("reveal") == "1"
    number, pages = _page_number(request, count)
    today = timezone.localdate()
    rows, logged = [], []
    for resident in page((number - 1) * PAGE_SIZE):
        row = _row(resident, asked and reveals(request.user, resident), today)
        if row["revealed"]:
            logged.append(access_record(resident, REVEALED_FIELDS, record=f"resident:{resident.pk}"))
        rows.append(row)
    if logged:
        access_log_write(user=request.user, reason=AccessReason.RECORD_VIEW, records=logged, request=request)
    params = request.GET.copy()
    params.pop("page", None)
    pager = {
        "number": number,
        "pages": pages,
        "previous": number - 1 if number > 1 else None,
        "next": number + 1 if number < pages else None,
        "query": params.urlencode(),
    }
    return rows, pager


def _row(resident: FoundResident, revealed: bool, today) -> dict[str, Any]:
    age = age_on(resident.birth_date, today)
    return {
        "pk": resident.pk,
        "name": resident.name if revealed else mask_name(resident.name),
        "gender": str(GENDER_LABELS.get(resident.gender, resident.gender)) if resident.gender else "",
        "age": age,
        "address": resident.address or "",
        "phone": (resident.phone if revealed else mask_phone(resident.phone)) if resident.phone else "",
        "registration": str(REGISTRATION_LABELS.get(resident.registration, resident.registration)),
        "living_alone": resident.living_alone,
        "tags": resident.tags,
        "notes": resident.notes if revealed else mask_text(resident.notes),
        "revealed": revealed,
    }


def rows_html(rows: list[dict[str, Any]]) -> str:
    """The finder's table (templates/residents/finder_rows.html without the contact column), drawn
    as escaped strings: the template costs ~0.5 ms a row, more than the page's queries."""
    labels = {
        key: escape(label)
        for key, label in (
            ("name", _("Name")),
            ("gender", _("Gender")),
            ("age", _("Age")),
            ("address", _("Address")),
            ("phone", _("Phone")),
            ("tags", _("Tags")),
            ("registration", _("Registration")),
            ("notes", _("Notes")),
        )
    }
    head = "".join(f"<th>{label}</th>" for label in labels.values())
    body = []
    for row in rows:
        tags = "".join(f'<span class="badge text-bg-light border">{escape(tag)}</span> ' for tag in row["tags"])
        age = "—" if row["age"] is None else row["age"]
        notes = row["notes"]
        # Truncator normalises and counts every note (~20 µs a row); most notes are short or empty.
        notes = escape(notes if len(notes) <= NOTE_CHARS else Truncator(notes).chars(NOTE_CHARS))
        body.append(
            "<tr>"
            f'<td class="text-nowrap finder-name" data-label="{labels["name"]}">{escape(row["name"])}</td>'
            f'<td data-label="{labels["gender"]}">{escape(row["gender"] or "—")}</td>'
            f'<td data-label="{labels["age"]}">{age}</td>'
            f'<td class="finder-address" data-label="{labels["address"]}">{escape(row["address"])}</td>'
            f'<td class="text-nowrap" data-label="{labels["phone"]}">{escape(row["phone"] or "—")}</td>'
            f'<td class="finder-tags" data-label="{labels["tags"]}">{tags}</td>'
            f'<td class="text-nowrap" data-label="{labels["registration"]}">{escape(row["registration"])}</td>'
            f'<td class="finder-notes" data-label="{labels["notes"]}">{notes}</td>'
            "</tr>"
        )
    if not body:
        body.append(f'<tr><td colspan="8">{escape(_("Nobody matches these conditions."))}</td></tr>')
    return mark_safe(  # every value above is escaped
        '<div class="table-responsive">\n'
        '<table class="table table-sm table-hover finder-table align-middle finder-stack">\n'
        f"  <thead><tr>{head}</tr></thead>\n  <tbody>{''.join(body)}</tbody>\n</table>\n</div>"
    )


def _reveal_links(request: HttpRequest, scope: Scope) -> dict[str, Any]:
    """Whether the reader may ask for full names and phones, and the links that ask or stop asking."""
    params = request.GET.copy()
    params.pop("reveal", None)
    base = params.urlencode()
    revealed = request.GET.get("reveal") == "1"
    return {
        "may_reveal": scope.has_role(*UNMASK_ROLES),
        "revealed": revealed,
        "reveal_url": "?" + (f"{base}&" if base else "") + "reveal=1",
        "mask_url": "?" + base,
    }


def _query_string(data: QueryDict | dict[str, Any]) -> str:
    if isinstance(data, QueryDict):
        params = data.copy()
        for key in ("page", "csrfmiddlewaretoken", "name", "text", "tab", "reveal"):
            params.pop(key, None)
        return params.urlencode()
    return urlencode(data, doseq=True)


# --- The finder --------------------------------------------------------------------------------------


@login_required
@require_GET
def finder(request: HttpRequest) -> HttpResponse:
    scope = _scope_or_403(request)
    form = FinderForm(request.GET or None, scope=scope)
    context: dict[str, Any] = {
        "form": form,
        "choices": finder_choices(form),
        "policy_form": PolicyForm(),
        "submitted": bool(request.GET),
    }
    status = 200
    if request.GET:
        if form.is_valid():
            query = FinderQuery.from_cleaned(form.cleaned_data)
            start = (_requested_page(request) - 1) * PAGE_SIZE
            user = request.user

            page_ids: list[int] | None = None
            if connections[Resident.objects.db].vendor == "postgresql" and found_by_lookup_lists(query):
                # Few matches, each pass over them costly: the count and the page's ids at once.
                count, page_ids = count_and_page_ids(user, query, start, PAGE_SIZE)
            else:
                count = finder_residents_count(user, query)

            def page(first: int) -> list[FoundResident]:
                if page_ids is not None and first == start:
                    return finder_page_of_ids(page_ids)
                return finder_page(user, query, first, PAGE_SIZE)  # or the last page, when past it

            rows, pager = _rows(request, count=count, page=page)
            context.update(
                count=count,
                count_html=count_html(count),
                rows=rows,
                rows_html=rows_html(rows),
                pager=pager,
                query=_query_string(request.GET),
            )
            context["conditions"] = describe_query(query)
            context.update(_reveal_links(request, scope))
            context["hidden"] = [
                (key, value) for key, values in request.GET.lists() for value in values if key != "page"
            ]
        else:
            status = 400
    return render(request, "residents/finder.html", context, status=status)


@login_required
@require_GET
def finder_count(request: HttpRequest) -> HttpResponse:
    """The live count (htmx): a fragment with the number, or the first problem of the form."""
    scope = _scope_or_403(request)
    form = FinderForm(request.GET, scope=scope)
    if not form.is_valid():
        errors = [str(error) for field_errors in form.errors.values() for error in field_errors]
        return HttpResponse(
            f'<span class="text-danger" role="alert">{escape(errors[0] if errors else "")}</span>', status=400
        )
    query = FinderQuery.from_cleaned(form.cleaned_data)
    count = finder_residents_count(request.user, query)
    return HttpResponse(count_html(count, _query_string(request.GET)))


def count_html(count: int, query: str | None = None) -> str:
    """The live count's words ("1,234 人符合条件"), with a link to the list for `query` when given:
    a fragment drawn from its own few strings (no template, no context processor)."""
    words = ngettext(
        '<strong class="finder-number">%(shown)s</strong> resident matches',
        '<strong class="finder-number">%(shown)s</strong> residents match',
        count,
    ) % {"shown": escape(floatformat(count, "g"))}
    if query is None:
        return mark_safe(words)  # the translation's markup and an escaped number
    link = f"{reverse('finder:search')}?{escape(query)}"
    label = escape(_("Show the list"))  # outside the f-string: xgettext does not read inside one
    return mark_safe(f'{words} · <a href="{link}">{label}</a>')


@login_required
@require_GET
def finder_export(request: HttpRequest) -> HttpResponse:
    scope = _scope_or_403(request)
    form = FinderForm(request.GET, scope=scope)
    if not form.is_valid():
        messages.error(request, _("Fix the conditions before exporting."))
        return redirect(f"{reverse('finder:search')}?{_query_string(request.GET)}")
    query = FinderQuery.from_cleaned(form.cleaned_data)
    residents = finder_residents(request.user, query)
    return _export(request, scope, residents, title=_("Policy finder"), filename="residents")


# --- Policies ----------------------------------------------------------------------------------------


@login_required
@require_POST
def policy_save(request: HttpRequest) -> HttpResponse:
    scope = _scope_or_403(request)
    form = FinderForm(request.POST, scope=scope)
    policy_form = PolicyForm(request.POST)
    if form.is_valid() and policy_form.is_valid():
        try:
            policy = policy_create(
                user=request.user,
                name=policy_form.cleaned_data["name"],
                text=policy_form.cleaned_data["text"],
                query=FinderQuery.from_cleaned(form.cleaned_data),
            )
        except DomainError as error:
            policy_form.add_error(None, error.message)
        else:
            messages.success(request, _("Policy “%(name)s” saved.") % {"name": policy.name})
            return redirect("finder:policy", policy_id=policy.pk)
    context = {
        "form": form,
        "choices": finder_choices(form),
        "policy_form": policy_form,
        "submitted": True,
        "hidden": [
            (k, v)
            for k, values in request.POST.lists()
            for v in values
            if k not in ("csrfmiddlewaretoken", "name", "text")
        ],
        "query": _query_string(request.POST),
        "save_open": True,
    }
    return render(request, "residents/finder.html", context, status=400)


@login_required
@require_GET
def policy_list(request: HttpRequest) -> HttpResponse:
    _scope_or_403(request)
    theirs = contacts_visible_condition(request.user)  # the contacts inside the reader's own areas
    policies = list(
        policies_visible_to(request.user)
        .annotate(
            contact_count=Count("contacts", filter=theirs), last_contact=Max("contacts__contacted_at", filter=theirs)
        )
        .order_by("-created_at", "-pk")[:200]
    )
    return render(request, "residents/finder_policies.html", {"policies": policies})


@login_required
@require_GET
def policy_detail(request: HttpRequest, policy_id: int) -> HttpResponse:
    scope = _scope_or_403(request)
    policy = policy_get_for_user(request.user, policy_id)
    tab = request.GET.get("tab", "left")
    tab = tab if tab in TABS else "left"
    reveal = _reveal_links(request, scope)
    matching = finder_residents(request.user, policy_query(policy), policy=policy)
    left = policy_left(matching, policy)
    counts = {"all": matching.count(), "left": left.count()}
    counts["contacted"] = counts["all"] - counts["left"]
    shown = {"left": left, "contacted": policy_contacted(matching, policy), "all": matching}[tab]
    rows, pager = _rows(request, count=counts[tab], page=lambda start: page_of(shown, start, PAGE_SIZE))
    latest = _latest_contacts(policy, [row["pk"] for row in rows])
    for row in rows:
        row["contact"] = latest.get(row["pk"])
    return render(
        request,
        "residents/finder_policy.html",
        {
            "policy": policy,
            "conditions": describe_query(policy_query(policy)),
            "finder_query": urlencode(conditions_as_query_data(policy.conditions), doseq=True),
            "tab": tab,
            "tabs": [(key, label, counts[key]) for key, label in _tab_labels()],
            "rows": rows,
            "pager": pager,
            "contact_form": ContactForm(),
            **reveal,
            "recent": _recent_contacts(request.user, policy),
        },
    )


RECENT_CONTACTS = 10


def _recent_contacts(user, policy) -> list[PolicyContact]:
    """The policy's latest contacts with residents `user` may see, the resident's name and the note
    masked (王**, 139******78): an audit line, not a record (the resident's page shows them)."""
    contacts = list(
        policy_contacts_visible(user, policy)
        .select_related("contacted_by", "resident")
        .only(
            "contacted_at",
            "outcome",
            "note",
            "contacted_by__username",
            "contacted_by__last_name",
            "contacted_by__first_name",
            "resident__name",
        )
        .order_by("-contacted_at", "-pk")[:RECENT_CONTACTS]
    )
    for contact in contacts:
        contact.resident_name = mask_name(contact.resident.name)
        contact.shown_note = shown_text(contact.note, unmasked=False)
    return contacts


def _tab_labels() -> list[tuple[str, str]]:
    return [("left", _("Left to contact")), ("contacted", _("Contacted")), ("all", _("All matching"))]


def _latest_contacts(policy, resident_ids: Iterable[int]) -> dict[int, PolicyContact]:
    latest: dict[int, PolicyContact] = {}
    contacts = (
        PolicyContact.objects.filter(policy=policy, resident_id__in=list(resident_ids))
        .select_related("contacted_by")
        .order_by("resident_id", "-contacted_at", "-pk")
    )
    for contact in contacts:
        latest.setdefault(contact.resident_id, contact)
    return latest


@login_required
@require_POST
def policy_contact(request: HttpRequest, policy_id: int) -> HttpResponse:
    _scope_or_403(request)
    policy = policy_get_for_user(request.user, policy_id)
    form = ContactForm(request.POST)
    kept = {key: request.POST[key] for key in ("tab", "page", "reveal") if request.POST.get(key)}
    back = f"{reverse('finder:policy', args=[policy.pk])}?{urlencode(kept)}"
    if not form.is_valid():
        messages.error(request, _("Choose how the resident was contacted."))
        return redirect(back)
    try:
        policy_contact_record(
            user=request.user,
            policy_id=policy.pk,
            resident_id=form.cleaned_data["resident"],
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"],
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Contact recorded."))
    return redirect(back)


@login_required
@require_GET
def policy_export(request: HttpRequest, policy_id: int) -> HttpResponse:
    scope = _scope_or_403(request)
    policy = policy_get_for_user(request.user, policy_id)
    tab = request.GET.get("tab", "left")
    matching = finder_residents(request.user, policy_query(policy), policy=policy)
    shown = {"left": policy_left(matching, policy), "contacted": policy_contacted(matching, policy)}.get(tab, matching)
    return _export(request, scope, shown, title=policy.name, filename=f"policy-{policy.pk}", policy=policy)


# --- XLSX --------------------------------------------------------------------------------------------


def _export(
    request: HttpRequest, scope: Scope, residents: QuerySet[Resident], *, title: str, filename: str, policy=None
) -> HttpResponse:
    """The residents as an XLSX sheet: full names, phones and ID numbers for the roles that call
    residents (minors only for a community secretary), masked for everybody else. Every exported
    row is written to the access log; formula-like cells are escaped (governance.exports)."""
    from openpyxl import Workbook

    count = residents.count()
    if count > EXPORT_MAX:
        messages.error(
            request,
            _("%(count)d residents match: narrow the conditions to at most %(max)d before exporting.")
            % {"count": count, "max": EXPORT_MAX},
        )
        target = (
            reverse("finder:policy", args=[policy.pk])
            if policy
            else f"{reverse('finder:search')}?{_query_string(request.GET)}"
        )
        return redirect(target)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_("Residents"))
    header = [
        _("Name"),
        _("Gender"),
        _("Age"),
        _("ID number"),
        _("Phone"),
        _("Address"),
        _("Registration"),
        _("Living alone"),
        _("Tags"),
        _("Notes"),
    ]
    if policy is not None:
        header += [_("Last contact"), _("Outcome")]
    sheet.append(safe_row([title]))
    sheet.append(safe_row(header))
    today = timezone.localdate()
    records: list[AccessRecord] = []
    queryset = (
        residents.select_related("house")
        .prefetch_related(Prefetch("tags", queryset=ResidentTag.objects.select_related("tag")))
        .order_by("pk")  # the list's own order: the export is the list the page shows, whole
    )
    for start in range(0, count, EXPORT_BATCH):
        batch = list(queryset[start : start + EXPORT_BATCH])
        latest = _latest_contacts(policy, [r.pk for r in batch]) if policy is not None else {}
        for resident in batch:
            age = age_on(resident.birth_date, today)
            full = reveals(request.user, resident)
            values = [
                resident.name if full else mask_name(resident.name),
                resident.get_gender_display() if resident.gender else "",
                age,
                (resident.id_number if full else _mask_id(resident.id_number)),
                (resident.phone if full else mask_phone(resident.phone)) if resident.phone else "",
                resident.house.address if resident.house_id else "",
                resident.get_registration_display(),
                _("Yes") if resident.living_alone else "",
                "、".join(link.tag.name for link in resident.tags.all()),
                resident.notes if full else mask_text(resident.notes),
            ]
            if policy is not None:
                contact = latest.get(resident.pk)
                values += (
                    [timezone.localtime(contact.contacted_at).strftime("%Y-%m-%d %H:%M"), contact.get_outcome_display()]
                    if contact
                    else ["", ""]
                )
            sheet.append(safe_row(values))
            fields = EXPORT_FULL_FIELDS if full else ("masked",)
            records.append(access_record(resident, fields, record=f"resident:{resident.pk}"))
    access_log_write(user=request.user, reason=AccessReason.EXPORT, records=records, request=request)
    buffer = io.BytesIO()
    book.save(buffer)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.xlsx"'
    return response


def _mask_id(number: str) -> str:
    from governance.privacy import mask_id_number

    return mask_id_number(number) if number else ""
