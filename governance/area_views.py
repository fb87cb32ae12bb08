from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from governance.selectors import area_ancestors, area_children, area_get_for_user, grid_workers, microgrid_head


@login_required
def area_detail(request: HttpRequest, code: str) -> HttpResponse:
    area = area_get_for_user(request.user, code=code)
    return render(
        request,
        "grids/area_detail.html",
        {
            "area": area,
            "ancestors": area_ancestors(area),
            "children": area_children(area),
            "workers": grid_workers(area),
            "head": microgrid_head(area),
        },
    )


@login_required
def area_children_geojson(request: HttpRequest, code: str) -> JsonResponse:
    """The area's own boundary and its children's, as a FeatureCollection for the map."""
    area = area_get_for_user(request.user, code=code)
    features = [
        {
            "type": "Feature",
            "geometry": child.boundary,
            "properties": {"code": child.code, "name": child.name, "level": child.level},
        }
        for child in area.children.exclude(boundary__isnull=True).only("code", "name", "level", "boundary")
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features, "area": {"boundary": area.boundary}})
