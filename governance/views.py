from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from governance.models import Heartbeat
from governance.scoping import scope_for
from governance.selectors import area_roots_for


def home(request: HttpRequest) -> HttpResponse:
    """Staff see their posts and areas; everyone else the resident entry points."""
    if not request.user.is_authenticated:
        return render(request, "landing.html")
    scope = scope_for(request.user)
    if not scope.is_staff_member:
        return redirect("appeals:mine")
    posts = request.user.posts.filter(is_active=True).select_related("area", "department")
    return render(
        request,
        "home.html",
        {"scope": scope, "posts": posts, "roots": area_roots_for(request.user)},
    )


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the database answers; the worker's last heartbeat."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    beat = Heartbeat.objects.filter(name="worker").values_list("at", flat=True).first()
    return JsonResponse({"database": "ok", "worker_heartbeat": beat.isoformat() if beat else None})
