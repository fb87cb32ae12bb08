"""Open311 GeoReport v2 at /open311/v2/ (see docs/open311.md).

Reading is public (unless `OPEN311_PUBLIC_REQUESTS` is off: then GET requests needs an `api_key`
too); `POST requests` always needs one. The format is the path's suffix (`.json` or `.xml`); errors
use the spec's list of `{code, description}`. The GET endpoints show what a public tracker should:
no names, phones, e-mail, device or account ids, free text masked (`governance.privacy.mask_text`),
the address generalised to the road or community, the point rounded to about 100 m, bounded pages.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import re_path
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from appeals.models import Category, Channel, Petition, Status
from appeals.selectors import categories_for_intake
from appeals.services import petition_submit
from governance.errors import DomainError, RateLimited
from governance.identity import is_valid_phone, name_in_order, normalize_phone
from governance.inputs import filter_date_error
from governance.limits import rate_limit
from governance.models import ApiClient
from governance.privacy import generalise_address, mask_text
from residents.selectors import house_for_doorplate

DEFAULT_JURISDICTION_ID = "shibei.qingdao.gov.cn"
# The spec: "Any request which comes from the open311 API should be limited to return 1000 results max".
# Pages (`page`, `page_size`) reach no further than that into one window.
MAX_REQUESTS = 1000
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
# The spec: a start_date/end_date range "may not span more than 90 days"; and the public list reaches
# back a year at most, so stepping through dates cannot walk the whole archive.
DEFAULT_WINDOW = timedelta(days=90)
MAX_HISTORY = timedelta(days=365)
WINDOW_DAYS = {"days": DEFAULT_WINDOW.days}
# Decimal places of the published point: 3 ≈ 110 m, a road's stretch rather than a doorway.
COORDINATE_DIGITS = 3
# Petitions filed without a category (the hotline's unclassified calls) are listed under this service.
CATCH_ALL_CODE = "other"
CLOSED_STATUSES = frozenset({Status.RESOLVED, Status.CLOSED, Status.MERGED})
# Petition.idempotency_key is 80 long and global: ours are "open311:<client pk>:<client's key>".
MAX_IDEMPOTENCY_KEY = 64
TITLE_EXCERPT = 30
DESCRIPTION_LIMIT = 2000
LAST_USED_RESOLUTION = timedelta(minutes=1)

# What the client sent that has no petition column is kept at the end of the description, where
# staff see it; the GET output cuts this block off and shows only `media_url` and `address_id`.
META_MARKER = "\n\n[Open311]\n"
META_FIELDS = {"media_url": 500, "email": 254, "phone": 32, "device_id": 64, "account_id": 64, "address_id": 64}
PUBLIC_META = ("media_url", "address_id")

XML_INVALID_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Open311Error(Exception):
    def __init__(self, status: int, *descriptions: str):
        super().__init__(descriptions)
        self.status = status
        self.descriptions = descriptions


# --- Rendering -------------------------------------------------------------------------------------


def _xml_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return XML_INVALID_RE.sub("", str(value))


def _xml_fill(element: ET.Element, values: dict[str, Any]) -> None:
    for key, value in values.items():
        child = ET.SubElement(element, key)
        if isinstance(value, list):  # only the service definition's `attributes`, always empty here
            continue
        child.text = _xml_text(value)


def _render(fmt: str, data: Any, *, root: str, item: str | None, status: int = 200) -> HttpResponse:
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False)
        return HttpResponse(body, status=status, content_type="application/json; charset=utf-8")
    element = ET.Element(root)
    if item is None:
        _xml_fill(element, data)
    else:
        for values in data:
            _xml_fill(ET.SubElement(element, item), values)
    body = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="unicode")
    return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")


def _error(fmt: str, status: int, *descriptions: str) -> HttpResponse:
    errors = [{"code": status, "description": str(text)} for text in descriptions]
    return _render(fmt, errors, root="errors", item="error", status=status)


def _datetime(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


# --- Parsing ---------------------------------------------------------------------------------------


def _param(request: HttpRequest, name: str) -> str:
    """A parameter from the body or the query string (clients put `api_key` in either)."""
    value = request.POST.get(name) if request.method == "POST" else None
    if value is None:
        value = request.GET.get(name)
    return (value or "").strip()


def _check_jurisdiction(request: HttpRequest) -> None:
    # An empty jurisdiction_id is what many clients send when there is only one: treat it as absent.
    given = _param(request, "jurisdiction_id")
    if given and given != getattr(settings, "OPEN311_JURISDICTION_ID", DEFAULT_JURISDICTION_ID):
        raise Open311Error(404, _("Unknown jurisdiction_id %(id)s.") % {"id": given})


def _client_for_key(key: str, *, reading: bool = False) -> ApiClient:
    client = ApiClient.objects.filter(key_hash=ApiClient.hash_key(key), is_active=True).first() if key else None
    if client is None and reading:
        raise Open311Error(403, _("A valid api_key is required to read service requests."))
    if client is None:
        raise Open311Error(403, _("A valid api_key is required to submit a service request."))
    now = timezone.now()
    if client.last_used_at is None or now - client.last_used_at > LAST_USED_RESOLUTION:
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
    return client


def _float(request: HttpRequest, name: str, low: float, high: float) -> float | None:
    raw = _param(request, name)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (low <= value <= high):
        bounds = {"name": name, "low": low, "high": high}
        raise Open311Error(400, _("%(name)s must be a number between %(low)s and %(high)s.") % bounds)
    return value


def _when(raw: str, name: str, *, day_end: bool = False) -> datetime | None:
    """A W3C datetime; a bare date means its first moment (or, with `day_end`, its last)."""
    if not raw:
        return None
    if "T" in raw and " " in raw:  # an unencoded "+08:00" in a query string arrives as " 08:00"
        raw = raw.replace(" ", "+")
    try:
        if (day := parse_date(raw)) is not None:
            parsed = datetime.combine(day, time.max if day_end else time.min)
        else:
            parsed = parse_datetime(raw)
    except ValueError:
        parsed = None
    if parsed is None:
        raise Open311Error(400, _("%(name)s must be a W3C datetime such as 2010-05-24T00:00:00Z.") % {"name": name})
    try:
        moment = timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed
        message = filter_date_error(moment)
    except (OverflowError, ValueError):
        message = _("%(name)s must be a W3C datetime such as 2010-05-24T00:00:00Z.") % {"name": name}
    if message:
        raise Open311Error(400, f"{name}: {message}")
    return moment


def _csv(request: HttpRequest, name: str) -> list[str]:
    return [part.strip() for part in _param(request, name).split(",") if part.strip()]


# --- Services --------------------------------------------------------------------------------------


def _service(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description,
        "metadata": False,
        "type": "realtime",
        "keywords": f"{category.parent.name}, {category.name}",
        "group": category.parent.name,
    }


def _catch_all_service() -> dict[str, Any]:
    name = _("Other")
    return {
        "service_code": CATCH_ALL_CODE,
        "service_name": name,
        "description": _("Anything no other service fits; staff choose the category."),
        "metadata": False,
        "type": "realtime",
        "keywords": name,
        "group": name,
    }


def services_list(request: HttpRequest, fmt: str) -> HttpResponse:
    _check_jurisdiction(request)
    services = [_service(category) for category in categories_for_intake()] + [_catch_all_service()]
    return _render(fmt, services, root="services", item="service")


def service_definition(request: HttpRequest, fmt: str, service_code: str) -> HttpResponse:
    _check_jurisdiction(request)
    if service_code != CATCH_ALL_CODE and not categories_for_intake().filter(code=service_code).exists():
        raise Open311Error(404, _("Unknown service_code %(code)s.") % {"code": service_code})
    definition = {"service_code": service_code, "attributes": []}
    return _render(fmt, definition, root="service_definition", item=None)


# --- Requests: submission --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Location:
    lon: float | None
    lat: float | None
    address: str
    address_id: str


def _location(request: HttpRequest) -> _Location:
    lat = _float(request, "lat", -90, 90)
    lon = _float(request, "long", -180, 180)
    if (lat is None) != (lon is None):
        raise Open311Error(400, _("Give both lat and long, or neither."))
    address = _param(request, "address_string")[:200]
    address_id = _param(request, "address_id")
    if address_id:
        # Our address ids are doorplate codes; the house's address routes the petition.
        house = house_for_doorplate(address_id)
        if house is None:
            raise Open311Error(400, _("Unknown address_id %(id)s.") % {"id": address_id})
        address = address or house.address
    if lat is None and not address:
        raise Open311Error(400, _("A location is required: lat and long, address_string or address_id."))
    return _Location(lon=lon, lat=lat, address=address, address_id=address_id)


def _meta_block(values: dict[str, str]) -> str:
    lines = [f"{key}: {value}" for key, value in values.items() if value]
    return META_MARKER + "\n".join(lines) if lines else ""


def _split_meta(description: str) -> tuple[str, dict[str, str]]:
    head, marker, tail = description.rpartition(META_MARKER.strip("\n"))
    if not marker:
        return description, {}
    meta: dict[str, str] = {}
    for line in tail.strip("\n").splitlines():
        key, sep, value = line.partition(": ")
        if not sep or key not in META_FIELDS:
            return description, {}  # not our block: a resident typed the marker
        meta[key] = value
    return head.rstrip("\n"), meta


def _title(category: Category | None, description: str) -> str:
    name = category.name if category else _("Other")
    excerpt = " ".join(description.split())[:TITLE_EXCERPT]
    return f"{name}：{excerpt}"[:100] if excerpt else name


def _submit(request: HttpRequest, fmt: str) -> HttpResponse:
    client = _client_for_key(_param(request, "api_key"))
    try:
        # Per api_key; fails open: a key's owner is known and accountable, an outage must not stop intake.
        rate_limit("open311-post", str(client.pk), setting="RATE_OPEN311_POST", fail_open=True)
    except RateLimited as error:
        raise Open311Error(429, error.message) from None
    _check_jurisdiction(request)
    service_code = _param(request, "service_code")
    if not service_code:
        raise Open311Error(400, _("service_code is required."))
    category = categories_for_intake().filter(code=service_code).first()
    if category is None and service_code != CATCH_ALL_CODE:
        raise Open311Error(400, _("Unknown service_code %(code)s.") % {"code": service_code})
    location = _location(request)
    meta = {name: _param(request, name) for name in META_FIELDS if name != "address_id"}
    meta["address_id"] = location.address_id
    # Phone is optional here: one we cannot use for SMS is kept for staff instead of refusing the report.
    phone = normalize_phone(meta["phone"])
    if is_valid_phone(phone):
        meta["phone"] = ""
    else:
        phone = ""
    for name, limit in META_FIELDS.items():
        if len(meta[name]) > limit:
            raise Open311Error(400, _("%(name)s can be at most %(limit)s characters.") % {"name": name, "limit": limit})
    text = _param(request, "description")
    description = (text or _title(category, "")) + _meta_block(meta)
    if len(description) > DESCRIPTION_LIMIT:
        limit = DESCRIPTION_LIMIT - (len(description) - len(text))  # what the client can still write
        raise Open311Error(400, _("description can be at most %(limit)s characters.") % {"limit": limit})
    idempotency_key = request.headers.get("X-Idempotency-Key", "").strip()
    if len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise Open311Error(400, _("X-Idempotency-Key can be at most %(n)s characters.") % {"n": MAX_IDEMPOTENCY_KEY})
    name = name_in_order(_param(request, "last_name"), _param(request, "first_name"))
    try:
        submission = petition_submit(
            channel=Channel.OPEN311,
            title=_title(category, text),
            description=description,
            contact_phone=phone,
            contact_name=name[:50],
            category=category,
            lon=location.lon,
            lat=location.lat,
            address=location.address,
            idempotency_key=f"open311:{client.pk}:{idempotency_key}" if idempotency_key else None,
            actor_label=client.name,
        )
    except DomainError as error:
        fields = error.extra.get("fields") or {}
        raise Open311Error(error.http_status, *(fields.values() or [error.message])) from None
    reply = {
        "service_request_id": submission.petition.tracking_no,
        "service_notice": _("Received. It goes to the grid responsible for the location; track it by this number."),
        "account_id": meta["account_id"] or None,
    }
    status = 201 if submission.created else 200
    return _render(fmt, [reply], root="service_requests", item="request", status=status)


# --- Requests: reading -----------------------------------------------------------------------------


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, COORDINATE_DIGITS)


def _request(petition: Petition) -> dict[str, Any]:
    """What a public tracker shows of a petition: nothing that identifies the resident."""
    description, meta = _split_meta(petition.description)
    category = petition.category
    agency = petition.handler_department or petition.handler_area
    community = petition.community.name if petition.community else ""
    address = generalise_address(petition.address, fallback=community) if petition.address else ""
    return {
        "service_request_id": petition.tracking_no,
        "status": "closed" if petition.status in CLOSED_STATUSES else "open",
        "status_notes": mask_text(petition.reply) or None,
        "service_name": category.name if category else _("Other"),
        "service_code": category.code if category else CATCH_ALL_CODE,
        "description": mask_text(description),
        "agency_responsible": agency.name if agency else None,
        "service_notice": None,
        "requested_datetime": _datetime(petition.created_at),
        "updated_datetime": _datetime(petition.updated_at),
        "expected_datetime": _datetime(petition.deadline_at),
        "address": address or None,
        # A doorplate code names one house: the public list never shows it.
        "address_id": None,
        "zipcode": None,
        "lat": _round(petition.lat),
        "long": _round(petition.lon),
        "media_url": meta.get("media_url") or None,
    }


def _requests_queryset() -> QuerySet[Petition]:
    return Petition.objects.select_related("category", "handler_department", "handler_area", "community").order_by(
        "-created_at", "-pk"
    )


def _filtered(request: HttpRequest) -> QuerySet[Petition]:
    queryset = _requests_queryset()
    ids = _csv(request, "service_request_id")
    if ids:  # the spec: this overrides all other arguments
        return queryset.filter(tracking_no__in=ids[:MAX_PAGE_SIZE])
    codes = _csv(request, "service_code")
    if codes:
        condition = Q(category__code__in=codes)
        if CATCH_ALL_CODE in codes:
            condition |= Q(category__isnull=True)
        queryset = queryset.filter(condition)
    statuses = {value.lower() for value in _csv(request, "status")}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, _("status must be open, closed or both (comma-separated)."))
    if statuses == {"open"}:
        queryset = queryset.exclude(status__in=CLOSED_STATUSES)
    elif statuses == {"closed"}:
        queryset = queryset.filter(status__in=CLOSED_STATUSES)
    start = _when(_param(request, "start_date"), "start_date")
    end = _when(_param(request, "end_date"), "end_date", day_end=True)
    if start and end and start > end:
        raise Open311Error(400, _("start_date must not be after end_date."))
    if start and end and end - start > DEFAULT_WINDOW:
        raise Open311Error(400, _("start_date and end_date may not span more than %(days)s days.") % WINDOW_DAYS)
    now = timezone.now()
    if start is None:
        start = (end or now) - DEFAULT_WINDOW
    if end is None:
        end = min(now, start + DEFAULT_WINDOW)
    if start < now - MAX_HISTORY:
        raise Open311Error(
            400,
            _("The list reaches back %(days)s days; ask for older requests by service_request_id.")
            % {"days": MAX_HISTORY.days},
        )
    return queryset.filter(created_at__gte=start, created_at__lte=end)


def _page(request: HttpRequest) -> tuple[int, int]:
    """`page` (from 1) and `page_size` (at most MAX_PAGE_SIZE); no page reaches past MAX_REQUESTS."""
    values = {}
    for name, default in (("page", 1), ("page_size", DEFAULT_PAGE_SIZE)):
        raw = _param(request, name) or str(default)
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_REQUESTS:
            raise Open311Error(400, _("%(name)s must be a whole number from 1.") % {"name": name})
        values[name] = int(raw)
    page, size = values["page"], min(values["page_size"], MAX_PAGE_SIZE)
    if page * size > MAX_REQUESTS:
        raise Open311Error(
            400,
            _("Pages reach the first %(n)s requests of a search; narrow it with start_date and end_date.")
            % {"n": MAX_REQUESTS},
        )
    return (page - 1) * size, size


def _check_public(request: HttpRequest) -> None:
    """With OPEN311_PUBLIC_REQUESTS off, reading requests takes an api_key like submitting."""
    if not getattr(settings, "OPEN311_PUBLIC_REQUESTS", True):
        _client_for_key(_param(request, "api_key"), reading=True)


def _requests(request: HttpRequest, fmt: str) -> HttpResponse:
    _check_jurisdiction(request)
    _check_public(request)
    offset, size = _page(request)
    found = [_request(petition) for petition in _filtered(request)[offset : offset + size]]
    return _render(fmt, found, root="service_requests", item="request")


def request_detail(request: HttpRequest, fmt: str, request_id: str) -> HttpResponse:
    _check_jurisdiction(request)
    _check_public(request)
    petition = _requests_queryset().filter(tracking_no=request_id).first()
    if petition is None:
        raise Open311Error(404, _("Unknown service_request_id %(id)s.") % {"id": request_id})
    return _render(fmt, [_request(petition)], root="service_requests", item="request")


def requests_endpoint(request: HttpRequest, fmt: str) -> HttpResponse:
    return _submit(request, fmt) if request.method == "POST" else _requests(request, fmt)


# --- Wiring ----------------------------------------------------------------------------------------


def _open311(view, methods: tuple[str, ...] = ("GET", "HEAD")):
    """Allow `methods`, and render Open311Error in the requested format."""

    @csrf_exempt  # API clients send no cookies; POST is authenticated by api_key
    def wrapped(request: HttpRequest, fmt: str, **kwargs: str) -> HttpResponse:
        allow = ", ".join((*methods, "OPTIONS"))
        if request.method == "OPTIONS":
            return HttpResponse(status=200, headers={"Allow": allow})
        try:
            if request.method not in methods:
                raise Open311Error(405, _("Method %(method)s is not allowed here.") % {"method": request.method})
            return view(request, fmt, **kwargs)
        except Open311Error as error:
            response = _error(fmt, error.status, *error.descriptions)
            if error.status == 405:
                response["Allow"] = allow
            return response

    return wrapped


FORMAT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    re_path(r"^services" + FORMAT, _open311(services_list), name="open311-services"),
    re_path(r"^services/(?P<service_code>[^/]+?)" + FORMAT, _open311(service_definition), name="open311-service"),
    re_path(r"^requests" + FORMAT, _open311(requests_endpoint, ("GET", "HEAD", "POST")), name="open311-requests"),
    re_path(r"^requests/(?P<request_id>[^/]+?)" + FORMAT, _open311(request_detail), name="open311-request"),
]
