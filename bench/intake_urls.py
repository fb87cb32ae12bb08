"""The intake bench's own site: the project's settings and URLs plus one bare-insert view.

Only `bench/intake.py` uses it, by starting gunicorn with DJANGO_SETTINGS_MODULE=bench.intake_settings
on 127.0.0.1; production never imports `bench`, so the bare-insert view cannot ship as an endpoint.

`POST /bench/bare-insert/` takes the same JSON as `POST /api/v1/petitions/` and does one
`Petition.objects.create` with it — no authentication, validation, routing or event: the floor
that the real endpoint is measured against, through the same server, middleware and connection.
"""

from __future__ import annotations

import cProfile
import json
import os
import secrets

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def bare_insert(request: HttpRequest) -> JsonResponse:
    from appeals.models import Petition

    data = json.loads(request.body)
    petition = Petition.objects.create(
        tracking_no=f"B{secrets.randbelow(10**11):011d}",
        channel=data["channel"],
        title=data["title"],
        description=data["description"],
        contact_phone=data["contact_phone"],
        category_id=data.get("category_id"),
        lon=data["lon"],
        lat=data["lat"],
        created_at=timezone.now(),
    )
    return JsonResponse({"tracking_no": petition.tracking_no}, status=201)


class ProfileMiddleware:
    """cProfile of each request to our endpoint, accumulated; the stats file is rewritten after each
    profiled request (only under `BENCH_SERVER_PROFILE`, see bench/intake_settings.py)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.path = os.environ["BENCH_SERVER_PROFILE"]
        self.profiler = cProfile.Profile()

    def __call__(self, request):
        if request.path_info.startswith("/bench/") or request.method != "POST":
            return self.get_response(request)
        self.profiler.enable()
        try:
            return self.get_response(request)
        finally:
            self.profiler.disable()
            self.profiler.dump_stats(self.path)


urlpatterns = [
    path("bench/bare-insert/", bare_insert),
    path("", include("governance.urls")),
]
