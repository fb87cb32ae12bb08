"""The staff home page per role and the map points it draws (one access rule: the user's subtree)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, ExpressionWrapper
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from appeals import workbench as wb
from appeals.actions import action_perform
from appeals.lifecycle import ACTIVE
from appeals.models import overdue_condition
from appeals.panorama import in_area
from appeals.selectors import petitions_visible_to
from governance.errors import DomainError
from governance.identity import person_name
from governance.privacy import mask_text
from governance.scoping import scope_for
from governance.selectors import area_roots_for
from grids.models import Area

# The most parts one bulk 分派 takes (the leader's list shows wb.PART_ROWS).
BULK_MAX = 100
# A map shows at most this many points (newest first); the worklist's map view pages the rest.
MAP_POINTS = 1500


def home(request: HttpRequest) -> HttpResponse:
    """Visitors: the landing page. Residents: their petitions. Staff: their role's workbench."""
    if not request.user.is_authenticated:
        return render(request, "landing.html")
    scope = scope_for(request.user)
    if not scope.is_staff_member:
        return redirect("appeals:mine")
    user = request.user
    now = timezone.now()
    kind = wb.role_kind(user)
    area = wb.home_area(user)
    context = {
        "kind": kind,
        "area": area,
        "tiles": wb.todo_tiles(user, now=now),
        "recent": [(row, *wb.petition_time_left(row, now)) for row in wb.recent_todo(user)],
        "posts": user.posts.filter(is_active=True).select_related("area", "department"),
        "roots": area_roots_for(user),
        "now": now,
    }
    if kind in {"community", "street", "district"} and area is not None:
        context["units"] = wb.unit_rows(user, area, now=now)
        context["trend"] = wb.trend(user, now=now)
    if kind in {"street", "district"}:
        context["dispatched"] = wb.dispatched_cases(user)
    if kind == "department":
        context["parts"] = wb.department_parts(user, now=now)
        context["dispatched"] = []
        context["mine"] = [(part, *wb.part_time_left(part, now)) for part in wb.my_open_parts(user)]
        if scope.led_department_ids:
            context["load"] = wb.department_load(user, now=now)
            context["open_parts"] = [
                (part, person_name(part.handler), *wb.part_time_left(part, now))
                for part in wb.department_open_parts(user)
            ]
    return render(request, "appeals/home.html", context)


@login_required
@require_POST
def assign_parts(request: HttpRequest) -> HttpResponse:
    """分派 of the ticked parts to one handler, each through the action registry (policy + service),
    each in its own transaction: one refusal does not undo the others. Back home with the results."""
    scope = scope_for(request.user)
    if not scope.is_staff_member:
        raise Http404
    if not scope.led_department_ids:
        raise PermissionDenied
    numbers = list(dict.fromkeys(n.strip() for n in request.POST.getlist("petition") if n.strip()))[:BULK_MAX]
    handler = request.POST.get("handler", "")
    if not numbers or not handler.isdigit():
        messages.error(request, _("Tick the cases and choose the handler first."))
        return redirect("home")
    found = {
        p.tracking_no: p
        for p in petitions_visible_to(request.user).select_related("handler_area").filter(tracking_no__in=numbers)
    }
    done = 0
    for number in numbers:
        petition = found.get(number)
        if petition is None:  # not offered to this user: refused without echoing it
            messages.error(request, _("Not found in your area."))
            continue
        try:
            action_perform("assign_handler", petition=petition, actor=request.user, data={"handler": int(handler)})
        except DomainError as error:
            messages.error(request, f"{number}：{error.message}")
        else:
            done += 1
    if done:
        messages.success(request, _("%(n)s case(s) assigned.") % {"n": done})
    return redirect("home")


@require_GET
def map_points(request: HttpRequest) -> JsonResponse:
    """Open petitions in the user's subtree with a location, as GeoJSON points (titles masked)."""
    if not request.user.is_authenticated or not scope_for(request.user).is_staff_member:
        return JsonResponse({"type": "FeatureCollection", "features": []}, status=403)
    now = timezone.now()
    petitions = petitions_visible_to(request.user)
    if code := request.GET.get("area"):
        area = Area.objects.filter(code=code).first()
        if area is None or not scope_for(request.user).sees_area(area):
            return JsonResponse({"type": "FeatureCollection", "features": []}, status=404)
        petitions = in_area(request.user, area)
    rows = (
        petitions.filter(status__in=sorted(ACTIVE), lon__isnull=False, lat__isnull=False)
        .annotate(is_overdue=ExpressionWrapper(overdue_condition(now), output_field=BooleanField()))
        .values("tracking_no", "title", "status", "urgency", "lon", "lat", "supervised", "is_overdue")
        .order_by("-created_at")[:MAP_POINTS]
    )
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
            "properties": {
                "no": row["tracking_no"],
                "title": mask_text(row["title"]),
                "status": row["status"],
                "urgency": row["urgency"],
                "supervised": row["supervised"],
                "overdue": row["is_overdue"],
            },
        }
        for row in rows
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})
