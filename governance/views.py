from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from governance.models import Heartbeat


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the database answers; the worker's last heartbeat."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    beat = Heartbeat.objects.filter(name="worker").values_list("at", flat=True).first()
    return JsonResponse({"database": "ok", "worker_heartbeat": beat.isoformat() if beat else None})


def too_many_page(request: HttpRequest, message: str, *, retry_after: int | None = None) -> HttpResponse:
    """The 429 page: what happened and when to come back, in the visitor's language."""
    response = render(request, "too_many.html", {"message": message}, status=429)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def login_locked_out(request: HttpRequest, response: HttpResponse | None = None, credentials=None) -> HttpResponse:
    """django-axes' AXES_LOCKOUT_CALLABLE: the log-in form's answer while an account or address is locked."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _(
        "Too many failed log-ins. This account is locked for %(minutes)s minutes; please try again later "
        "or ask an administrator to unlock it."
    ) % {"minutes": minutes}
    return too_many_page(request, message, retry_after=minutes * 60)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 when no URL matched: the API's error body under /api/, GeoReport v2's error list under
    /open311/ (their clients read JSON), Django's page elsewhere."""
    if request.path.startswith("/api/"):
        body = {"message": _("Not found."), "code": "not_found", "extra": {}}
        return JsonResponse(body, status=404, json_dumps_params={"ensure_ascii": False})
    if request.path.startswith("/open311/"):
        body = [{"code": 404, "description": _("Not found.")}]
        return JsonResponse(body, status=404, safe=False, json_dumps_params={"ensure_ascii": False})
    from django.views.defaults import page_not_found as default_page_not_found

    return default_page_not_found(request, exception)
