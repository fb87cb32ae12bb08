import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from governance.models import Heartbeat
from governance.sessions import idle_seconds_for

security_logger = logging.getLogger("governance.security")


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


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """One's own account: who is signed in, how many sessions are open, and "log out everywhere"."""
    from governance.sessions import UserSession

    sessions = UserSession.objects.filter(user_id=request.user.pk, expire_date__gt=timezone.now()).count()
    idle_minutes = idle_seconds_for(request.user) // 60
    return render(request, "registration/account.html", {"sessions": sessions, "idle_minutes": idle_minutes})


@login_required
@require_POST
def logout_everywhere(request: HttpRequest) -> HttpResponse:
    """End every session of the caller (this browser's too) and show the log-in page."""
    from governance.sessions import end_user_sessions

    user = request.user
    ended = end_user_sessions(user)
    security_logger.info("User %s ended all %s of their sessions (log out everywhere).", user.pk, ended)
    auth_logout(request)  # this browser's session row is gone already: forget it here too
    messages.success(request, _("You have been logged out everywhere (%(count)s sessions ended).") % {"count": ended})
    return redirect("login")
