"""The record pages of the staff workbench: search, buildings, houses, residents, their history.

Every page reaches its record through `residents.policy.record_get_for_user` (missing and out of
scope look alike: 404), shows personal data masked, and unmasks only on the explicit "show in full"
request of a role the policy allows, which is written to the access log.

Other apps add panels to a record page without residents importing them: each name in
`HOUSE_PANELS` / `RESIDENT_PANELS` is a template included when it exists (the petitions of a house
come from appeals; a resident's contact history from the policy finder, `residents/finder_resident_contacts.html`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from governance.accesslog import access_log_write, access_record
from governance.errors import DomainError, Forbidden
from governance.models import AccessReason
from governance.privacy import PERSON_MASKERS, mask_id_number, mask_name, mask_phone, person_fields, shown_text
from governance.scoping import scope_for
from residents import selectors, services
from residents.forms import (
    BuildingForm,
    HouseForm,
    LeaveForm,
    MoveForm,
    NewBuildingForm,
    NewHouseForm,
    NewTagForm,
    ResidentForm,
    TagForm,
)
from residents.models import (
    Building,
    House,
    HouseUse,
    PartyGroup,
    PartyHousehold,
    RecordChange,
    Resident,
    ResidentStatus,
    Tag,
    TagKind,
)
from residents.policy import (
    VIEW_ROLES,
    may_manage_tags,
    microgrids_editable_by,
    record_access,
    record_get_for_user,
    records_visible_to,
    tag_managed_communities,
)
from residents.services.history import CHANGED

PAGE_SIZE = 30
# Houses of the resident's micro-grid offered on the move form.
MOVE_SUGGESTIONS = 200
# Panels other apps contribute (included when the template exists; context: the record, `user`).
HOUSE_PANELS = ("appeals/house_petitions_panel.html",)
RESIDENT_PANELS = ("residents/finder_resident_contacts.html",)
PERSONAL_FIELDS = ("name", "id_number", "phone", "birth_date")


def _require_records_role(request: HttpRequest) -> None:
    scope = scope_for(request.user)
    if not (scope.sees_all or scope.roles & VIEW_ROLES):
        raise PermissionDenied(_("Only staff of an area see the community's records."))


def _panels(names: tuple[str, ...]) -> list[str]:
    found = []
    for name in names:
        try:
            get_template(name)
        except TemplateDoesNotExist:
            continue
        found.append(name)
    return found


def _url(record: Any) -> str:
    name = {"building": "building", "house": "house", "resident": "resident"}[record._meta.model_name]
    return reverse(f"residents:{name}", args=[record.pk])


def _record_form(
    request: HttpRequest,
    form,
    save: Callable[[dict[str, Any]], Any],
    *,
    title: str,
    back: Any,
    back_url: str,
    **extra: Any,
) -> HttpResponse:
    """The one flow of the record forms: a valid form goes to the service (`save`), then "Saved." and
    the record's page; a bad field or the service's refusal shows the form again (400) with why."""
    if request.method == "POST":
        if form.is_valid():
            try:
                record = save(dict(form.cleaned_data))
            except DomainError as error:
                form.add_error(_field_of(form, error.code), error.message)
            else:
                if isinstance(record, Resident) and not record_access(request.user, record).view:
                    # A minor added by a role that may not see minors: saved, and back where they were.
                    messages.success(
                        request, _("Saved. A minor's record is seen by the community secretary and above.")
                    )
                    return redirect(back_url)
                messages.success(request, _("Saved."))
                return redirect(_url(record))
        messages.error(request, _("Please correct the errors below."))
    return render(
        request,
        "residents/record_form.html",
        {"form": form, "title": title, "back": back, "back_url": back_url, **extra},
        status=400 if request.method == "POST" else 200,
    )


def _field_of(form, code: str) -> str | None:
    """The form field a service's refusal is about (its code: "phone", "id_number_checksum", "date" …),
    so the message stands at that field; None (the form's top) when it names none of them."""
    candidates = [
        code,
        "id_number" if code.startswith("id_number") else "",
        *(("moved_in_on", "on") if code == "date" else ()),
    ]
    return next((name for name in candidates if name in form.fields), None)


def _microgrids(request: HttpRequest):
    """The micro-grids where the user may create records, with their grid and community for labels."""
    return microgrids_editable_by(request.user).select_related("parent__parent").order_by("path")


def _page(request: HttpRequest, queryset, param: str = "page") -> Any:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get(param))


def _masked_row(resident: Resident) -> dict[str, str]:
    return person_fields({f: getattr(resident, f) for f in PERSONAL_FIELDS}, unmasked=False)


@login_required
def records_search(request: HttpRequest) -> HttpResponse:
    """Search by name, address, doorplate or building; an ID number or phone exactly."""
    _require_records_role(request)
    result = selectors.records_search(request.user, request.GET.get("q", ""))
    residents = _page(request, result.residents) if result.kind else None
    rows = [(r, _masked_row(r)) for r in residents] if residents else []
    return render(
        request,
        "residents/search.html",
        {
            "result": result,
            "residents": residents,
            "resident_rows": rows,
            "houses": result.houses[:PAGE_SIZE] if result.kind else None,
            "buildings": _page(request, result.buildings) if not result.kind else result.buildings[:PAGE_SIZE],
            "summary": selectors.records_summary(request.user) if not result.kind else None,
            "query": f"q={result.query}" if result.query else "",
            "may_create": _microgrids(request).exists(),
        },
    )


@login_required
def building_new(request: HttpRequest) -> HttpResponse:
    """A new building (楼栋) in a micro-grid of the user's subtree where they may write records."""
    _require_records_role(request)
    microgrids = _microgrids(request)
    if not microgrids.exists():
        raise PermissionDenied(_("You may not add records in this area."))
    form = NewBuildingForm(request.POST or None, microgrids=microgrids, initial={"units": 1, "floors": 1})

    def save(data: dict[str, Any]) -> Building:
        return services.building_create(actor=request.user, **data)

    return _record_form(request, form, save, title=_("New building"), back="", back_url=reverse("residents:search"))


@login_required
def house_new(request: HttpRequest) -> HttpResponse:
    """A new house: in a building (`?building=`, its micro-grid) or in a chosen micro-grid."""
    _require_records_role(request)
    building = None
    building_id = request.GET.get("building", "")
    if building_id:
        building, access = record_get_for_user(
            request.user, Building.objects.select_related("microgrid"), pk=building_id if building_id.isdigit() else 0
        )
        if not access.edit:
            raise PermissionDenied(_("You may not add records in this area."))
        buildings = Building.objects.filter(pk=building.pk)
        form = NewHouseForm(
            request.POST or None, buildings=buildings, initial={"building": building, "use": "owner_occupied"}
        )
        form.fields["building"].required = True
        form.fields["building"].empty_label = None
    else:
        microgrids = _microgrids(request)
        if not microgrids.exists():
            raise PermissionDenied(_("You may not add records in this area."))
        buildings = (
            selectors.buildings_visible_to(request.user)
            .filter(microgrid__in=microgrids)
            .select_related("microgrid")
            .order_by("code")
        )
        form = NewHouseForm(request.POST or None, buildings=buildings, microgrids=microgrids)

    def save(data: dict[str, Any]) -> House:
        microgrid = data.pop("microgrid", None) or data["building"].microgrid
        data["doorplate_code"] = data["doorplate_code"] or None
        return services.house_create(microgrid=microgrid, actor=request.user, **data)

    back, back_url = (building, _url(building)) if building else ("", reverse("residents:search"))
    return _record_form(request, form, save, title=_("New house"), back=back, back_url=back_url)


@login_required
def building_detail(request: HttpRequest, building_id: int) -> HttpResponse:
    building, access = record_get_for_user(
        request.user, Building.objects.select_related("microgrid", "grid", "community"), pk=building_id
    )
    houses = selectors.building_houses(request.user, building)
    return render(
        request,
        "residents/building_detail.html",
        {
            "building": building,
            "access": access,
            "houses": _page(request, houses),
            "history": _history(building),
        },
    )


@login_required
def building_edit(request: HttpRequest, building_id: int) -> HttpResponse:
    building, access = record_get_for_user(request.user, Building.objects.all(), pk=building_id)
    if not access.edit:
        raise PermissionDenied(_("You may not change this record."))
    fields = ("code", "name", "address", "units", "floors", "notes")
    form = BuildingForm(request.POST or None, initial={f: getattr(building, f) for f in fields})

    def save(data: dict[str, Any]) -> Building:
        services.building_update(building=building, actor=request.user, **data)
        return building

    return _record_form(request, form, save, title=_("Edit building"), back=building, back_url=_url(building))


def _reveal(request: HttpRequest, access, records: list[Resident], fields: tuple[str, ...] = PERSONAL_FIELDS) -> bool:
    """Whether this response shows personal data in full; if so, each record is access-logged."""
    if request.GET.get("reveal") != "1" or not access.view_unmasked or not records:
        return False
    access_log_write(
        user=request.user,
        reason=AccessReason.RECORD_VIEW,
        records=[access_record(r, fields, record=f"resident:{r.pk}") for r in records],
        request=request,
    )
    return True


@login_required
def house_detail(request: HttpRequest, house_id: int) -> HttpResponse:
    house, access = record_get_for_user(
        request.user, House.objects.select_related("building", "microgrid", "grid", "community"), pk=house_id
    )
    residents = list(selectors.house_residents(request.user, house))
    # Unmasking a house's residents is decided per resident (a minor may need a higher role).
    accesses = {r.pk: record_access(request.user, r) for r in residents}
    wants = request.GET.get("reveal") == "1"
    revealed = [r for r in residents if wants and accesses[r.pk].view_unmasked]
    if revealed:
        _reveal(request, accesses[revealed[0].pk], revealed)
    rows = [(r, person_fields({f: getattr(r, f) for f in PERSONAL_FIELDS}, unmasked=r in revealed)) for r in residents]
    return render(
        request,
        "residents/house_detail.html",
        {
            "house": house,
            "access": access,
            "resident_rows": rows,
            "revealed": bool(revealed),
            "may_reveal": any(a.view_unmasked for a in accesses.values()),
            # A use to correct: someone moved in (an import, a move) since the house was recorded empty.
            "vacant_but_lived_in": house.use == HouseUse.VACANT
            and any(r.status == ResidentStatus.ACTIVE for r in residents),
            "history": _history(house),
            "panels": _panels(HOUSE_PANELS),
        },
    )


@login_required
def house_edit(request: HttpRequest, house_id: int) -> HttpResponse:
    house, access = record_get_for_user(request.user, House.objects.select_related("building"), pk=house_id)
    if not access.edit:
        raise PermissionDenied(_("You may not change this record."))
    fields = ("address", "doorplate_code", "building", "unit", "floor", "room", "use", "notes")
    buildings = selectors.buildings_visible_to(request.user).filter(microgrid_id=house.microgrid_id).order_by("code")
    form = HouseForm(request.POST or None, buildings=buildings, initial={f: getattr(house, f) for f in fields})

    def save(data: dict[str, Any]) -> House:
        data["doorplate_code"] = data["doorplate_code"] or None
        services.house_update(house=house, actor=request.user, **data)
        return house

    return _record_form(request, form, save, title=_("Edit house"), back=house, back_url=_url(house))


def _manual_tags(resident: Resident):
    return Tag.objects.filter(
        Q(community__isnull=True) | Q(community_id=resident.community_id), kind=TagKind.MANUAL, is_active=True
    ).exclude(residents__resident=resident)


def _resident_page(request: HttpRequest, resident: Resident, access, *, status: int = 200, **extra) -> HttpResponse:
    # The page also shows free text about the person: the resident's notes, the tags' and the
    # policy contacts' notes (residents/_contacts.html), masked like the rest until revealed.
    fields = (*PERSONAL_FIELDS, "notes")
    revealed = _reveal(request, access, [resident], fields)
    shown = person_fields({f: getattr(resident, f) for f in fields}, unmasked=revealed)
    tags = list(selectors.resident_tags(resident))
    for resident_tag in tags:
        resident_tag.shown_note = shown_text(resident_tag.note, unmasked=revealed)
    context = {
        "resident": resident,
        "access": access,
        "shown": shown,
        "revealed": revealed,
        "age": resident.age(),
        "tags": tags,
        "tag_form": extra.pop("tag_form", None) or TagForm(tags=_manual_tags(resident)),
        "leave_form": extra.pop("leave_form", None) or LeaveForm(),
        "history": _history(resident, unmasked=revealed),
        "panels": _panels(RESIDENT_PANELS),
        **extra,
    }
    return render(request, "residents/resident_detail.html", context, status=status)


def _history(record: Any, *, unmasked: bool = True) -> list[RecordChange]:
    """The record's changes as a page shows them: a person's name, birth date and notes (old and
    new) and each change's note masked like the page's own fields unless `unmasked` (the page shows
    the person in full and logged it). ID numbers and phones are never kept in the history. A
    field with choices shows their labels (在住 → 已故, not active → deceased); an entry whose old and
    new value are the same is left out."""
    history = list(selectors.record_history(record))
    labels = _choice_labels(type(record))
    for change in history:
        shown = {}
        for field, values in (change.changes or {}).items():
            if len(values) == 2 and values[0] == values[1]:
                continue
            if not unmasked and field in PERSON_MASKERS and CHANGED not in values:
                values = [PERSON_MASKERS[field](value) if value else value for value in values]
            elif field in labels:
                values = [labels[field].get(value, value) for value in values]
            shown[field] = values
        change.shown_changes = shown
        change.shown_note = shown_text(change.note, unmasked=unmasked)
    return history


def _choice_labels(model: Any) -> dict[str, dict[Any, Any]]:
    """{field: {value: label}} of a model's fields with choices."""
    return {f.name: dict(f.flatchoices) for f in model._meta.concrete_fields if f.choices}


def _resident(request: HttpRequest, resident_id: int) -> tuple[Resident, Any]:
    return record_get_for_user(
        request.user, Resident.objects.select_related("house", "microgrid", "community"), pk=resident_id
    )


@login_required
def resident_detail(request: HttpRequest, resident_id: int) -> HttpResponse:
    resident, access = _resident(request, resident_id)
    return _resident_page(request, resident, access)


def _resident_form_values(resident: Resident) -> dict[str, Any]:
    fields = ("name", "gender", "birth_date", "relation", "registration", "moved_in_on", "notes")
    return {f: getattr(resident, f) for f in fields}


@login_required
def resident_edit(request: HttpRequest, resident_id: int) -> HttpResponse:
    resident, access = _resident(request, resident_id)
    if not access.edit or resident.status != ResidentStatus.ACTIVE:
        raise PermissionDenied(_("You may not change this record."))
    form = ResidentForm(request.POST or None, editing=True, initial=_resident_form_values(resident))
    if request.method == "GET":  # the form shows the name, birth date and notes in full
        access_log_write(
            user=request.user,
            reason=AccessReason.RECORD_VIEW,
            records=[access_record(resident, ("name", "birth_date", "notes"), record=f"resident:{resident.pk}")],
            request=request,
        )

    def save(data: dict[str, Any]) -> Resident:
        for secret in ("id_number", "phone"):  # empty: keep the number on record
            if not data[secret]:
                data.pop(secret)
        if "id_number" in data:  # a new ID number decides birth date and gender
            data.pop("birth_date")
            data.pop("gender")
        services.resident_update(resident=resident, actor=request.user, **data)
        return resident

    current = {
        "name": mask_name(resident.name),
        "id_number": mask_id_number(resident.id_number),
        "phone": mask_phone(resident.phone),
    }
    return _record_form(
        request,
        form,
        save,
        title=_("Edit resident"),
        back=current["name"],
        back_url=_url(resident),
        current=current,
    )


@login_required
def resident_new(request: HttpRequest, house_id: int) -> HttpResponse:
    house, access = record_get_for_user(request.user, House.objects.select_related("microgrid"), pk=house_id)
    if not access.edit:
        raise PermissionDenied(_("You may not change this record."))
    form = ResidentForm(request.POST or None)

    def save(data: dict[str, Any]) -> Resident:
        return services.resident_create(house=house, actor=request.user, **data)

    return _record_form(request, form, save, title=_("Add a resident"), back=house, back_url=_url(house))


@login_required
def resident_move(request: HttpRequest, resident_id: int) -> HttpResponse:
    """Move a living resident to another house of the user's areas (the record and its history stay)."""
    resident, access = _resident(request, resident_id)
    if not access.edit or resident.status != ResidentStatus.ACTIVE:
        raise PermissionDenied(_("You may not change this record."))
    houses = selectors.houses_visible_to(request.user).filter(microgrid__in=_microgrids(request))
    form = MoveForm(request.POST or None, houses=houses)

    def save(data: dict[str, Any]) -> Resident:
        return services.resident_move(
            resident=resident, house=data["house"], on=data["on"], note=data["note"], actor=request.user
        )

    return _record_form(
        request,
        form,
        save,
        title=_("Move to another house"),
        back=mask_name(resident.name),
        back_url=_url(resident),
        intro=_("Now living at %(address)s.") % {"address": resident.house.address},
        # Addresses of the same micro-grid offered as the field is typed (a datalist, any house may be typed).
        suggestions=houses.filter(microgrid_id=resident.microgrid_id)
        .exclude(pk=resident.house_id)
        .order_by("address")
        .values_list("address", flat=True)[:MOVE_SUGGESTIONS],
    )


@login_required
@require_POST
def resident_leave(request: HttpRequest, resident_id: int) -> HttpResponse:
    resident, access = _resident(request, resident_id)
    if not access.edit:
        raise PermissionDenied(_("You may not change this record."))
    form = LeaveForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        service = (
            services.resident_move_away
            if data["status"] == ResidentStatus.MOVED_AWAY
            else services.resident_mark_deceased
        )
        try:
            service(resident=resident, on=data["on"], actor=request.user, note=data["note"])
        except DomainError as error:
            messages.error(request, error.message)
            return _resident_page(request, resident, access, status=error.http_status, leave_form=form)
        messages.success(request, _("Saved."))
        return redirect("residents:resident", resident_id=resident.pk)
    messages.error(request, _("Please correct the errors below."))
    return _resident_page(request, resident, access, status=400, leave_form=form)


@login_required
@require_POST
def resident_tags(request: HttpRequest, resident_id: int) -> HttpResponse:
    """Add a manual tag (field `tag`) or remove one (field `remove` = tag id)."""
    resident, access = _resident(request, resident_id)
    if not access.edit:
        raise PermissionDenied(_("You may not change this record."))
    tags = Tag.objects.filter(Q(community__isnull=True) | Q(community_id=resident.community_id))
    try:
        if request.POST.get("remove"):
            tag = tags.filter(pk=request.POST["remove"] if request.POST["remove"].isdigit() else 0).first()
            if tag is None:
                raise DomainError(_("Choose a tag from the list."))
            services.resident_tag_remove(resident=resident, tag=tag, actor=request.user)
        else:
            form = TagForm(request.POST, tags=_manual_tags(resident))
            if not form.is_valid():
                messages.error(request, _("Choose a tag from the list."))
                return _resident_page(request, resident, access, status=400, tag_form=form)
            services.resident_tag_add(
                resident=resident, tag=form.cleaned_data["tag"], actor=request.user, note=form.cleaned_data["note"]
            )
    except DomainError as error:
        messages.error(request, error.message)
        return _resident_page(request, resident, access, status=400)
    messages.success(request, _("Saved."))
    return redirect("residents:resident", resident_id=resident.pk)


@login_required
def tags(request: HttpRequest) -> HttpResponse:
    """The tags of the user's communities and the district's: list with counts, add (POST)."""
    _require_records_role(request)
    managed = tag_managed_communities(request.user)
    district = scope_for(request.user).sees_all
    form = None
    if managed.exists():
        form = NewTagForm(request.POST or None, communities=managed, district=district)
    elif request.method == "POST":
        raise PermissionDenied(_("You may not manage this community's tags."))
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.tag_create(
                    name=data["name"],
                    description=data["description"],
                    sensitive=data["sensitive"],
                    community=data["community"],
                    actor=request.user,
                )
            except DomainError as error:
                form.add_error("name", error.message)
            else:
                messages.success(request, _("Saved."))
                return redirect("residents:tags")
        messages.error(request, _("Please correct the errors below."))
    rows = [
        (tag, count, may_manage_tags(request.user, tag.community))
        for tag, count in selectors.tags_with_counts(request.user)
    ]
    return render(
        request,
        "residents/tags.html",
        {
            "rows": rows,
            "form": form,
            "active_count": sum(1 for tag, _count, _may in rows if tag.is_active),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def tag_active(request: HttpRequest, tag_id: int) -> HttpResponse:
    """Retire a tag (`active=0`) or bring it back (`active=1`)."""
    _require_records_role(request)
    tag = selectors.tags_visible_to(request.user).filter(pk=tag_id).first()
    if tag is None:
        raise Http404
    try:
        services.tag_set_active(tag=tag, active=request.POST.get("active") == "1", actor=request.user)
    except Forbidden as error:
        raise PermissionDenied(error.message) from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Saved."))
    return redirect("residents:tags")


@login_required
def party(request: HttpRequest) -> HttpResponse:
    """The last two links of the Party's chain in the user's subtree: building party groups (楼院党小组)
    with their buildings and leader, and party-member households (党员中心户) with the households
    they look after. Names masked; each links to the record's own page (where a full look is logged)."""
    _require_records_role(request)
    visible_groups = records_visible_to(request.user, PartyGroup.objects.all())
    groups = _page(
        request,
        visible_groups.select_related("leader", "grid", "microgrid")
        .prefetch_related(Prefetch("buildings", queryset=Building.objects.only("pk", "name").order_by("name")))
        .annotate(household_count=Count("households", distinct=True))
        .order_by("area_path", "name"),
        param="groups_page",
    )
    households = _page(
        request,
        records_visible_to(request.user, PartyHousehold.objects.all())
        .select_related("house", "member", "group", "grid", "microgrid")
        .annotate(linked_count=Count("linked_houses", distinct=True))
        .order_by("area_path", "house__address"),
    )
    return render(
        request,
        "residents/party.html",
        {
            "groups": [(group, mask_name(group.leader.name) if group.leader else "") for group in groups],
            "group_page": groups,
            "households": households,
            # each list's pager keeps the other list's page
            "groups_query": f"page={households.number}",
            "households_query": f"groups_page={groups.number}",
            "household_rows": [(row, mask_name(row.member.name)) for row in households],
        },
    )
