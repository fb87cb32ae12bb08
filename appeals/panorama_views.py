"""一屏全景 for the district and each street: the wall screen, its live partial, one-click transfer."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from appeals import panorama as pano
from appeals import policy
from appeals.actions import REGISTRY, action_perform
from appeals.models import Status
from appeals.selectors import petition_get_for_user
from appeals.workbench import home_area
from governance.errors import DomainError
from governance.models import Department
from governance.scoping import scope_for
from grids.models import Area, AreaLevel


def _watched_area(request: HttpRequest, code: str | None) -> Area:
    if code:
        area = Area.objects.filter(code=code).first()
    else:
        area = home_area(request.user)
        while area is not None and area.level > AreaLevel.STREET:
            area = area.parent
    if area is None or not pano.may_watch(request.user, area):
        raise PermissionDenied(_("The panorama is for the district and street command centres, over their own area."))
    return area


@login_required
def panorama_page(request: HttpRequest, code: str | None = None) -> HttpResponse:
    area = _watched_area(request, code)
    streets = Area.objects.filter(parent=area).order_by("code") if area.level == AreaLevel.DISTRICT else []
    return render(
        request,
        "appeals/panorama.html",
        {
            "area": area,
            "streets": streets,
            "watches_district": area.parent is not None and pano.may_watch(request.user, area.parent),
            **pano.panorama(request.user, area),
        },
    )


@login_required
def panorama_live(request: HttpRequest, code: str) -> HttpResponse:
    """The figures alone, for htmx to swap in every 30 seconds."""
    area = _watched_area(request, code)
    return render(request, "appeals/_panorama_live.html", {"area": area, **pano.panorama(request.user, area)})


def _targets(user: Any, area: Area, petition: Any) -> dict[str, list[tuple[str, str]]]:
    """Where this petition may go from here: areas below the panorama's area, and departments
    when the policy lets this user dispatch it."""
    scope = scope_for(user)
    areas = scope.filter(
        Area.objects.filter(
            path__startswith=area.path, level__in=[AreaLevel.STREET, AreaLevel.COMMUNITY, AreaLevel.GRID]
        ),
        path_field="path",
    ).exclude(pk=petition.handler_area_id)
    options = {
        "areas": [
            (f"area:{a.code}", f"{a.name}（{a.get_level_display()}）")
            for a in areas.order_by("path").only("code", "name", "level")
        ],
        "departments": [],
    }
    if policy.decide(user, "whistle", petition):
        options["departments"] = [
            (f"dept:{d.code}", d.name)
            for d in Department.objects.filter(is_active=True).order_by("code").only("code", "name")
        ]
    return options


def _transfer_action(petition: Any, target: str) -> str:
    if target.startswith("dept:"):
        return "whistle"
    return "place" if petition.status in (Status.INTAKE, Status.RETURNED) else "transfer"


@login_required
def panorama_transfer(request: HttpRequest, code: str, tracking_no: str) -> HttpResponse:
    """一键转办: GET the short form, POST it; the same actions (and policy) as the petition page."""
    area = _watched_area(request, code)
    petition = petition_get_for_user(request.user, tracking_no=tracking_no)
    if not pano.in_area(request.user, area).filter(pk=petition.pk).exists():
        raise Http404
    options = _targets(request.user, area, petition)
    context = {"area": area, "petition": petition, "options": options, "error": "", "done": ""}
    if request.method == "POST":
        target = request.POST.get("target", "").strip()
        note = request.POST.get("note", "").strip()
        known = {value for value, _label in options["areas"] + options["departments"]}
        if target not in known:
            context["error"] = _("Choose where the petition goes from the list.")
            return render(request, _transfer_template(request), context, status=400)
        action = _transfer_action(petition, target)
        kind, _sep, target_code = target.partition(":")
        data: dict[str, Any] = {"note": note}
        if kind == "dept":
            data["lead_department"] = Department.objects.get(code=target_code)
            data["assisting_departments"] = []
        else:
            data["area"] = Area.objects.get(code=target_code)
        try:
            action_perform(action, petition=petition, actor=request.user, data=data)
        except DomainError as error:
            context["error"] = error.message
            return render(request, _transfer_template(request), context, status=error.http_status)
        context["done"] = _("Done: %(action)s.") % {"action": REGISTRY[action].label}
        response = render(request, _transfer_template(request), context)
        response["HX-Trigger"] = "panorama-changed"
        return response
    return render(request, _transfer_template(request), context)


def _transfer_template(request: HttpRequest) -> str:
    """htmx swaps the bare form into the panel; without JavaScript it is a page of its own."""
    return "appeals/_panorama_transfer.html" if request.headers.get("HX-Request") else "appeals/panorama_transfer.html"
