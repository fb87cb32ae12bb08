"""The staff home page per role and the map points it draws (one access rule: the user's subtree)."""

from __future__ import annotations

from django.db.models import BooleanField, ExpressionWrapper
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from appeals import workbench as wb
from appeals.lifecycle import ACTIVE
from appeals.models import overdue_condition
from appeals.panorama import in_area
from appeals.selectors import petitions_visible_to
from governance.privacy import mask_text
from governance.scoping import scope_for
from governance.selectors import area_roots_for
from grids.models import Area

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
        "recent": [(row, *wb.time_left(row.deadline_at, now)) for row in wb.recent_todo(user)],
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
    return render(request, "appeals/home.html", context)


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
