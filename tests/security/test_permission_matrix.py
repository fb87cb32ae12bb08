"""The permission matrix, generated from the URL configuration: every URL × every role.

Every pattern of `get_resolver()` (pages, API, Open311, admin) is filled with an object OUTSIDE the
persona's area (a petition, an area, a post of the other street; a department that is not theirs)
and requested as each role of `MATRIX_ROLES`: GET, and POST where the URL acts. Object URLs must
answer one of the statuses their rule names (404 for staff; a login redirect, 401 or 403 for
anonymous), never 200 with the object; list URLs must never show it.

A URL that no rule below describes fails `test_every_url_has_a_rule`: a new URL cannot be
forgotten. Add it to `RULES` (or `ADMIN_MODELS` for a new admin model) with the reason.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLResolver, get_resolver
from django.utils import timezone

from appeals.actions import BY_SLUG as API_ACTIONS
from appeals.actions import REGISTRY as PAGE_ACTIONS
from appeals.models import HotlineImportJob, Notification
from governance.accesslog import access_log_write, access_record
from governance.models import AccessLog, AccessReason, ApiClient, Heartbeat, StaffPost
from grids.models import BoundaryChange
from tests.security.conftest import (
    MATRIX_ROLES,
    OUTSIDE_NAME,
    OUTSIDE_PHONE,
    OUTSIDE_TITLE,
    POINT_OUTSIDE,
    World,
)

LOGIN = "login"  # 302 to /accounts/login/
ADMIN_LOGIN = "admin_login"  # 302 to /admin/login/
TRACK_FORM = "track_form"  # 302 to the tracking form (no proof of the phone in this session)
ANY_REDIRECT = "redirect"  # 302 anywhere but to the object's own page
NOT_FOUND, DENIED, UNAUTHENTICATED, NOT_ALLOWED, BAD, OK = 404, 403, 401, 405, 400, 200
# Tracking look-ups are limited per number and per client: a 429 refuses as well as a 404 does.
THROTTLED = 429
API_ANONYMOUS = {UNAUTHENTICATED, DENIED}
STAFF = {
    "grid_worker",
    "microgrid_head",
    "community_worker",
    "community_secretary",
    "street_command",
    "department_handler",
    "department_leader",
}


@dataclass(frozen=True)
class Route:
    key: str  # the URL name with its namespace, or the pattern when it has no name
    pattern: str
    params: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    """How the matrix fills and judges one URL. `answers` maps staff/resident/anonymous to statuses."""

    kind: str  # "object" (must not serve it), "list" (must not list it), "public" (reason given)
    answers: dict[str, set]
    post: dict[str, set] | None = None  # POST answers, for URLs that act
    query: Callable[[World], dict] | None = None
    reason: str = ""
    post_data: dict = field(default_factory=dict)


def _anyone(*statuses) -> dict[str, set]:
    return {"staff": set(statuses), "resident": set(statuses), "anonymous": set(statuses)}


def _scoped(staff: set, resident: set, anonymous: set) -> dict[str, set]:
    return {"staff": staff, "resident": resident, "anonymous": anonymous}


def _public(reason: str, **answers: set) -> Rule:
    statuses = {OK, ANY_REDIRECT, NOT_ALLOWED, BAD, NOT_FOUND}
    return Rule(
        "public", {group: answers.get(group, statuses) for group in ("staff", "resident", "anonymous")}, reason=reason
    )


HTML_OBJECT = _scoped({NOT_FOUND}, {NOT_FOUND}, {LOGIN})
# The Django admin is for administrators only (governance/admin_site.py): every signed-in persona
# of the matrix is refused every admin page; visitors get the admin's login form.
ADMIN_REFUSED = _scoped({DENIED}, {DENIED}, {ADMIN_LOGIN})
# 设置 (governance/reference_urls.py): every member of staff reads it; residents are refused.
REFERENCE = _scoped({OK}, {DENIED}, {LOGIN})
API_OBJECT = _scoped({NOT_FOUND}, {NOT_FOUND}, API_ANONYMOUS)
API_LIST = _scoped({OK}, {OK}, API_ANONYMOUS)

RULES: dict[str, Rule] = {
    # --- public by design (the reason is the whole rule; 200 bodies still must not show the object)
    "home": _public("landing page for visitors, residents redirected, staff get their own subtree's workbench"),
    "health": _public("liveness for the load balancer: database and worker heartbeat, no records"),
    "login": _public("the login form"),
    "logout": _public("ends one's own session"),
    "account": _public(
        "one's own account: name, log-in time, session count", anonymous={LOGIN}, staff={OK}, resident={OK}
    ),
    "logout_everywhere": _public(
        "ends one's own sessions; POST only (not posted here: it would end the persona's session)",
        staff={NOT_ALLOWED},
        resident={NOT_ALLOWED},
        anonymous={LOGIN},
    ),
    "set_language": _public("sets one's own language cookie"),
    "api-schema": _public("the OpenAPI description: no records"),
    "api-docs": _public("Swagger UI over the schema: no records"),
    "appeals:new": _public("the public petition form"),
    "appeals:submitted": _public("shows this session's own tracking number only"),
    "appeals:track": _public("the tracking form: number + phone, failures look alike"),
    "open311-services": _public("GeoReport v2 service list: the categories"),
    "open311-service": _public("GeoReport v2 service definition of one category"),
    "open311-requests": _public("GeoReport v2 public requests: masked, no names or phones (privacy branch)"),
    "open311-request": _public("GeoReport v2 public request: masked, no names or phones (privacy branch)"),
    "admin:login": _public(
        "the admin's login form; signed-in non-administrators are refused", staff={DENIED}, resident={DENIED}
    ),
    "admin:logout": _public("ends one's own session"),
    "admin:jsi18n": _public(
        "the admin's JavaScript translations; signed-in non-administrators are refused",
        staff={DENIED},
        resident={DENIED},
    ),
    "api-hotline-import": Rule(
        "public",
        _scoped({NOT_ALLOWED}, {NOT_ALLOWED}, API_ANONYMOUS),
        post=_scoped({DENIED, BAD}, {DENIED}, API_ANONYMOUS),
        reason="an upload: no object to fill; only the district and street command centres import",
    ),
    # --- objects of another area
    "appeals:track_token": Rule("object", _anyone(NOT_FOUND)),  # a guessed token opens nothing
    "api-hotline-import-job": Rule("object", _scoped({DENIED, NOT_FOUND}, {DENIED}, API_ANONYMOUS)),
    "grids:area_detail": Rule("object", HTML_OBJECT),
    # Someone else's patrol: nobody else writes to it or reads it.
    **{
        f"patrol:{name}": Rule(
            "object",
            _scoped({NOT_ALLOWED}, {NOT_ALLOWED}, {LOGIN}),
            post=_scoped({DENIED, BAD, ANY_REDIRECT}, {DENIED, BAD, ANY_REDIRECT}, {LOGIN}),
            post_data={"place": "x", "title": "x", "description": "x", "client_key": "matrix"},
        )
        for name in ("note", "report", "close")
    },
    "patrol:detail": Rule("object", _scoped({NOT_FOUND}, {NOT_FOUND, DENIED}, {LOGIN})),
    # The panorama of an area outside one's own (or below a street): refused outright.
    "panorama:area": Rule("object", _scoped({DENIED}, {DENIED}, {LOGIN})),
    "panorama:live": Rule("object", _scoped({DENIED}, {DENIED}, {LOGIN})),
    "panorama:transfer": Rule(
        "object",
        _scoped({DENIED}, {DENIED}, {LOGIN}),
        post=_scoped({DENIED}, {DENIED}, {LOGIN}),
        post_data={"target": "x"},
    ),
    "grids:area_children_geojson": Rule("object", HTML_OBJECT),
    "api-area-detail": Rule("object", API_OBJECT),
    "api-area-locate": Rule(
        "object", API_OBJECT, query=lambda world: {"lon": POINT_OUTSIDE[0], "lat": POINT_OUTSIDE[1]}
    ),
    "api-petition-detail": Rule("object", API_OBJECT),
    "api-report-detail": Rule("object", API_OBJECT),
    **{
        f"api-petition-{name}": Rule(
            "object", _scoped({NOT_ALLOWED}, {NOT_ALLOWED}, API_ANONYMOUS), post=API_OBJECT, post_data={"note": "x"}
        )
        for name in API_ACTIONS
    },
    "api-track": Rule(
        "object",
        _anyone(NOT_FOUND, THROTTLED),
        query=lambda world: {"tracking_no": world.outside.tracking_no, "phone": "13000000000"},
    ),
    "api-track-rate": Rule(
        "object",
        _anyone(NOT_ALLOWED, THROTTLED),  # the throttle runs before the method check
        post=_anyone(NOT_FOUND, THROTTLED),
        post_data={"tracking_no": "{tracking_no}", "phone": "13000000000", "rating": "unsatisfied", "note": ""},
    ),
    "api-track-reopen": Rule(
        "object",
        _anyone(NOT_ALLOWED, THROTTLED),  # the throttle runs before the method check
        post=_anyone(NOT_FOUND, THROTTLED),
        post_data={"tracking_no": "{tracking_no}", "phone": "13000000000", "reason": "x"},
    ),
    "appeals:detail": Rule("object", _scoped({NOT_FOUND}, {ANY_REDIRECT}, {LOGIN})),
    "appeals:act": Rule(
        "object", _scoped({NOT_ALLOWED}, {NOT_ALLOWED}, {LOGIN}), post=HTML_OBJECT, post_data={"note": "x"}
    ),
    "appeals:photo": Rule("object", HTML_OBJECT),
    # Internal notes: written only on a petition the user can see (the page's scoped lookup).
    "appeals:note_add": Rule(
        "object", _scoped({NOT_ALLOWED}, {NOT_ALLOWED}, {LOGIN}), post=HTML_OBJECT, post_data={"text": "x"}
    ),
    # Reply templates: the district centre's page (no matrix role is a district centre).
    "appeals:reply_templates": Rule(
        "list",
        _scoped({NOT_FOUND}, {NOT_FOUND}, {LOGIN}),
        post=_scoped({NOT_FOUND}, {NOT_FOUND}, {LOGIN}),
        post_data={"title": "x", "text": "x"},
    ),
    "appeals:reply_template_edit": Rule(
        "object",
        _scoped({NOT_FOUND}, {NOT_FOUND}, {LOGIN}),
        post=_scoped({NOT_FOUND}, {NOT_FOUND}, {LOGIN}),
        post_data={"title": "x", "text": "x"},
    ),
    # Someone else's notification: nobody else opens (marks) it.
    "notifications:open": Rule("object", _scoped({NOT_ALLOWED}, {NOT_ALLOWED}, {LOGIN}), post=HTML_OBJECT),
    "appeals:track_status": Rule("object", _anyone(TRACK_FORM, THROTTLED)),
    "appeals:track_rate": Rule(
        "object", _anyone(NOT_ALLOWED), post=_anyone(TRACK_FORM, THROTTLED), post_data={"rating": "unsatisfied"}
    ),
    "appeals:track_reopen": Rule(
        "object", _anyone(NOT_ALLOWED), post=_anyone(TRACK_FORM, THROTTLED), post_data={"reason": "x"}
    ),
    # --- lists: must not list the outside object
    "appeals:list": Rule("list", _scoped({OK}, {ANY_REDIRECT}, {LOGIN})),
    "appeals:mine": Rule("list", _scoped({OK}, {OK}, {LOGIN})),
    "panorama:mine": Rule("list", _scoped({OK, DENIED}, {DENIED}, {LOGIN})),
    "patrol:home": Rule("list", _scoped({OK, DENIED}, {DENIED}, {LOGIN})),
    "patrol:log": Rule("list", _scoped({OK}, {DENIED}, {LOGIN})),
    "workbench-points": Rule("list", _scoped({OK}, {DENIED}, {DENIED})),
    "notifications:list": Rule("list", _scoped({OK}, {OK}, {LOGIN})),
    "notifications:badge": Rule("list", _scoped({OK}, {OK}, {LOGIN})),
    "notifications:read_all": _public("marks only one's own notifications read"),
    "patrol:start": _public("starts one's own patrol, on one's own grid only"),
    "patrol:manifest": _public("the patrol web app's manifest: names and icons"),
    "patrol:sw": _public("the patrol web app's service worker script"),
    # The worklist's map, export and area picker: the list's scope, every state ("all").
    "appeals:map": Rule("list", _scoped({OK}, {ANY_REDIRECT}, {LOGIN}), query=lambda w: {"tab": "all"}),
    "appeals:export": Rule("list", _scoped({OK}, {NOT_FOUND}, {LOGIN}), query=lambda w: {"tab": "all"}),
    "appeals:area_picker": Rule("list", _scoped({OK}, {NOT_FOUND}, {LOGIN}), query=lambda w: {"area_q": "DS1"}),
    # Bulk accept of the outside petition: refused per row without echoing it.
    "appeals:bulk_accept": Rule(
        "object",
        _scoped({NOT_ALLOWED}, {NOT_ALLOWED}, {LOGIN}),
        post=_scoped({OK}, {NOT_FOUND}, {LOGIN}),
        post_data={"petition": "{tracking_no}"},
    ),
    # The district centre gives its own sweep failures back to the sweeps: other staff are refused.
    "appeals:sweep_clear": Rule(
        "list",
        _scoped({NOT_ALLOWED}, {NOT_ALLOWED}, {LOGIN}),
        post=_scoped({DENIED, ANY_REDIRECT}, {NOT_FOUND}, {LOGIN}),
    ),
    # Bulk 分派 of the outside petition: department leaders only (403 for other staff), refused per
    # case without echoing it, back home.
    "workbench-assign": Rule(
        "object",
        _scoped({NOT_ALLOWED}, {NOT_ALLOWED}, {LOGIN}),
        post=_scoped({DENIED, ANY_REDIRECT}, {NOT_FOUND}, {LOGIN}),
        post_data={"petition": "{tracking_no}", "handler": "1"},
    ),
    "api-area-list": Rule("list", API_LIST),
    "api-petition-list": Rule("list", API_LIST),
    "api-petition-stats": Rule("list", API_LIST),
    # --- resident import (智能导人): only the community's record keepers; another community's job is 404
    "imports:upload": Rule(
        "list", _scoped({OK, DENIED}, {DENIED}, {LOGIN}), post=_scoped({OK, DENIED}, {DENIED}, {LOGIN})
    ),
    "imports:detail": Rule("object", HTML_OBJECT),
    "imports:mapping": Rule("object", HTML_OBJECT, post=HTML_OBJECT),
    "imports:progress": Rule("object", HTML_OBJECT),
    "imports:start": Rule("object", _scoped({NOT_ALLOWED}, {NOT_ALLOWED}, {LOGIN}), post=HTML_OBJECT),
    "api-report-list": Rule("list", API_LIST),
    # 12345 reply-back: district and street command centres (their subtree), 403 for other roles.
    "hotline:replies": Rule("list", _scoped({OK, DENIED}, {DENIED}, {LOGIN})),
    "hotline:replies_csv": Rule("list", _scoped({OK, DENIED}, {DENIED}, {LOGIN})),
    "hotline:replies_xlsx": Rule("list", _scoped({OK, DENIED}, {DENIED}, {LOGIN})),
    "api-hotline-replies": Rule("list", _scoped({OK, DENIED}, {DENIED}, API_ANONYMOUS)),
    # --- the admin's own pages (model pages: ADMIN_MODELS)
    "admin:index": Rule("list", ADMIN_REFUSED),
    "admin:app_list": Rule("list", ADMIN_REFUSED),
    "admin:password_change": Rule("public", ADMIN_REFUSED, reason="one's own password: administrators only here"),
    "admin:password_change_done": Rule("public", ADMIN_REFUSED, reason="one's own password: administrators only"),
    # --- 设置: reference pages for staff (categories, calendar, departments, staff, access log)
    "reference:index": Rule("list", REFERENCE),
    "reference:categories": Rule("list", REFERENCE),
    "reference:category": Rule(
        "public",
        _scoped({OK, NOT_FOUND}, {DENIED}, {LOGIN}),
        reason="one category of the shared taxonomy and its time limits: every member of staff reads it",
    ),
    "reference:calendar": Rule("list", REFERENCE),
    "reference:departments": Rule("list", REFERENCE),
    "reference:staff": Rule("list", REFERENCE),
    # The access log names the outside petition (ADMIN_MODELS makes a row): the district centre and
    # administrators only, neither of them a persona here.
    "reference:access_log": Rule("list", _scoped({DENIED}, {DENIED}, {LOGIN})),
    # --- 政策找人 (residents/finder_urls.py): area staff only; department staff and residents 403
    "finder:search": Rule("list", _scoped({OK, DENIED}, {DENIED}, {LOGIN}), query=lambda world: _finder_query(world)),
    "finder:count": Rule("list", _scoped({OK, DENIED}, {DENIED}, {LOGIN}), query=lambda world: _finder_query(world)),
    "finder:export": Rule("list", _scoped({OK, DENIED}, {DENIED}, {LOGIN}), query=lambda world: _finder_query(world)),
    "finder:policies": Rule("list", _scoped({OK, DENIED}, {DENIED}, {LOGIN}), query=lambda world: _finder_query(world)),
    "finder:policy_save": Rule(
        "list",
        _scoped({NOT_ALLOWED}, {NOT_ALLOWED}, {LOGIN}),
        post=_scoped({BAD, DENIED}, {DENIED}, {LOGIN}),  # no name: refused, nothing saved
    ),
    "finder:policy": Rule("object", _scoped({NOT_FOUND, DENIED}, {DENIED}, {LOGIN})),
    "finder:policy_export": Rule("object", _scoped({NOT_FOUND, DENIED}, {DENIED}, {LOGIN})),
    "finder:policy_contact": Rule(
        "object",
        _scoped({NOT_ALLOWED}, {NOT_ALLOWED}, {LOGIN}),
        post=_scoped({NOT_FOUND, DENIED}, {DENIED}, {LOGIN}),
        post_data={"resident": "1", "outcome": "phone"},
    ),
    "admin:autocomplete": Rule("list", ADMIN_REFUSED),
    "admin:view_on_site": Rule("object", ADMIN_REFUSED),
    "admin/(?P<url>.*)$": Rule("object", ADMIN_REFUSED),
    # --- the community's records (residents/urls.py): objects in the other street
    "residents:search": Rule(
        "list",
        _scoped({OK, DENIED}, {DENIED}, {LOGIN}),  # department staff and residents see no records
        query=lambda world: {"q": "外街道"},  # the outside records' address and names
    ),
    "admin:residents_tag_add": Rule("public", ADMIN_REFUSED, reason="adding tags: administrators only"),
    "residents:building": Rule("object", HTML_OBJECT),
    "residents:building_edit": Rule("object", HTML_OBJECT, post=HTML_OBJECT, post_data={"code": "X", "name": "x"}),
    "residents:house": Rule("object", HTML_OBJECT, query=lambda world: {"reveal": "1"}),
    "residents:house_edit": Rule("object", HTML_OBJECT, post=HTML_OBJECT, post_data={"address": "x", "use": "vacant"}),
    "residents:resident_new": Rule("object", HTML_OBJECT, post=HTML_OBJECT, post_data={"name": "x"}),
    "residents:resident": Rule("object", HTML_OBJECT, query=lambda world: {"reveal": "1"}),
    "residents:resident_edit": Rule("object", HTML_OBJECT, post=HTML_OBJECT, post_data={"name": "x"}),
    "residents:resident_leave": Rule(
        "object", _scoped({NOT_ALLOWED}, {NOT_ALLOWED}, {LOGIN}), post=HTML_OBJECT, post_data={"status": "deceased"}
    ),
    "residents:resident_tags": Rule(
        "object", _scoped({NOT_ALLOWED}, {NOT_ALLOWED}, {LOGIN}), post=HTML_OBJECT, post_data={"remove": "1"}
    ),
    # Creating records: the micro-grid of the other street is not a choice (400); roles that keep no records 403.
    "residents:building_new": Rule(
        "list",
        _scoped({OK, DENIED}, {DENIED}, {LOGIN}),
        post=_scoped({BAD, DENIED}, {DENIED}, {LOGIN}),
        post_data={
            "code": "OUT-NEW",
            "name": "x",
            "address": "x",
            "units": "1",
            "floors": "1",
            "microgrid": "{outside_microgrid}",
        },
    ),  # fmt: skip
    "residents:house_new": Rule(
        "object",
        _scoped({NOT_FOUND, DENIED}, {DENIED}, {LOGIN}),  # ?building= the other street's building
        post=_scoped({BAD, DENIED}, {DENIED}, {LOGIN}),
        query=lambda world: {"building": str(_outside_records(world)["building"].pk)},
        post_data={"address": "外街道新址", "use": "vacant", "microgrid": "{outside_microgrid}"},
    ),
    "residents:resident_move": Rule(
        "object", HTML_OBJECT, post=HTML_OBJECT, post_data={"house": "外街道1号1单元101", "on": "2020-01-01"}
    ),
    # Tags: area staff list those of their communities (and the district's); an empty name is refused.
    "residents:party": Rule("list", _scoped({OK, DENIED}, {DENIED}, {LOGIN})),
    "residents:tags": Rule(
        "list",
        _scoped({OK, DENIED}, {DENIED}, {LOGIN}),
        post=_scoped({BAD, DENIED}, {DENIED}, {LOGIN}),
        post_data={"name": ""},
    ),
    "residents:tag_active": Rule(
        "object",
        _scoped({NOT_ALLOWED}, {NOT_ALLOWED}, {LOGIN}),
        post=_scoped({NOT_FOUND, DENIED}, {DENIED}, {LOGIN}),
        post_data={"active": "0"},
    ),
    # --- monthly reports (analytics/urls.py): the outside report is DS1's; personas sit in DS0 or a department
    "analytics:index": Rule("list", _scoped({OK, ANY_REDIRECT, NOT_FOUND}, {NOT_FOUND}, {LOGIN})),
    "analytics:area_reports": Rule("object", HTML_OBJECT),
    "analytics:area_month": Rule("object", HTML_OBJECT),
    "analytics:generate": Rule("object", _anyone(NOT_ALLOWED), post=HTML_OBJECT, post_data={"month": "2026-11"}),
    "analytics:detail": Rule("object", HTML_OBJECT),
    "analytics:progress": Rule("object", HTML_OBJECT),
    "analytics:pdf": Rule("object", HTML_OBJECT),
    "analytics:xlsx": Rule("object", HTML_OBJECT),
    "analytics:publish": Rule("object", _anyone(NOT_ALLOWED), post=HTML_OBJECT),
}

# Admin model pages: the object outside the persona's area of each registered model, and whether
# staff may read the model at all ("scoped": only their subtree; "permission": only with Django
# model permissions, which no persona has; "reference": shared tables every member of staff reads).
ADMIN_MODELS: dict[str, tuple[str, Callable[[World], object]]] = {
    "appeals.petition": ("scoped", lambda world: world.outside),
    "appeals.petitionevent": ("scoped", lambda world: world.outside.events.first()),
    "appeals.notification": ("permission", lambda world: _notification(world)),
    "appeals.category": ("reference", lambda world: world.category),
    "appeals.timelimit": ("reference", lambda world: _first("appeals.timelimit")),
    "governance.department": ("scoped", lambda world: world.department),
    "governance.staffpost": (
        "scoped",
        lambda world: StaffPost.objects.get(user=world.users["outside_street_command"]),
    ),
    "governance.heartbeat": ("permission", lambda world: Heartbeat.objects.create(name="w", at=timezone.now())),
    "governance.calendarday": ("reference", lambda world: _first("governance.calendarday")),
    "governance.apiclient": ("permission", lambda world: ApiClient.objects.create(name="c", key_hash="h" * 64)),
    "grids.area": ("scoped", lambda world: world.tree["DS1C1G1"]),
    "grids.boundarychange": ("permission", lambda world: BoundaryChange.objects.first()),
    "governance.accesslog": ("permission", lambda world: _access_log(world)),
    "axes.accessattempt": (
        "permission",
        lambda world: _axes("AccessAttempt", get_data="", post_data="", failures_since_start=1),
    ),
    "axes.accesslog": ("permission", lambda world: _axes("AccessLog")),
    "axes.accessfailurelog": ("permission", lambda world: _axes("AccessFailureLog")),
    "auth.user": ("permission", lambda world: world.users["outside_submitter"]),
    "auth.group": ("permission", lambda world: Group.objects.create(name="g")),
    "residents.building": ("scoped", lambda world: _outside_records(world)["building"]),
    "residents.house": ("scoped", lambda world: _outside_records(world)["house"]),
    "residents.resident": ("scoped", lambda world: _outside_records(world)["resident"]),
    "residents.partygroup": ("scoped", lambda world: _outside_records(world)["party_group"]),
    "residents.partyhousehold": ("scoped", lambda world: _outside_records(world)["party_household"]),
    "residents.tag": ("scoped", lambda world: _outside_records(world)["tag"]),
    # Recommendation rules are edited by administrators only (insight's admin; added here to walk it).
    "analytics.recommendationrule": ("permission", lambda world: _first("analytics.recommendationrule")),
}
ADMIN_VIEWS = {
    "changelist": "list",
    "add": "add",
    "history": "object",
    "delete": "object",
    "change": "object",
    "redirect": "object",
}
# Whatever a model admin's own permissions say, the site refuses every persona first.
ADMIN_ANSWERS = {"scoped": ADMIN_REFUSED, "permission": ADMIN_REFUSED, "reference": ADMIN_REFUSED}


def _first(label: str):
    return apps.get_model(label).objects.first()


def _access_log(world: World):
    access_log_write(
        user=world.users["outside_street_command"],
        reason=AccessReason.HANDLER_VIEW,
        records=[access_record(world.outside, ["contact_phone"], record=world.outside.tracking_no)],
    )
    return AccessLog.objects.order_by("-pk").first()


def _axes(model: str, **fields):
    return apps.get_model("axes", model).objects.create(
        username="m_outsider", ip_address="10.9.9.9", user_agent="matrix", path_info="/accounts/login/", **fields
    )


_OUTSIDE_RECORDS: dict[int, dict] = {}


def _outside_records(world: World) -> dict:
    """A building, house, resident, party group and household, and a community tag, in the other street."""
    key = id(world)
    if key not in _OUTSIDE_RECORDS:
        from residents.models import PartyGroup, PartyHousehold, Tag
        from residents.services import building_create, house_create, resident_create

        microgrid = world.tree["DS1C1G1M1"]
        building = building_create(code="OUT-B1", name="外街道楼", address="外街道1号", microgrid=microgrid)
        house = house_create(address="外街道1号1单元101", microgrid=microgrid, building=building)
        resident = resident_create(house=house, name=OUTSIDE_NAME, phone=OUTSIDE_PHONE)
        group = PartyGroup(name="外街道党小组")
        group.locate(microgrid)
        group.save()
        household = PartyHousehold(house=house, member=resident, group=group)
        household.locate(microgrid)
        household.save()
        tag = Tag.objects.create(code="outside", name="外社区标签", community=world.tree["DS1C1"])
        _OUTSIDE_RECORDS[key] = {
            "building": building,
            "house": house,
            "resident": resident,
            "party_group": group,
            "party_household": household,
            "tag": tag,
        }
    return _OUTSIDE_RECORDS[key]


def _import_job(world: World) -> str:
    job = HotlineImportJob.objects.create(file_name="orders.csv", created_by=world.users["outside_street_command"])
    return str(job.pk)


_OUTSIDE_POLICIES: dict[int, str] = {}


def _finder_query(world: World) -> dict:
    _outside_policy(world)  # the outside resident exists before any finder list is asked
    return {"age_min": "0"}


def _outside_policy(world: World) -> str:
    """A policy of the other street; its resident (`_outside_records`) no finder list may show."""
    from residents.models import Policy

    if id(world) not in _OUTSIDE_POLICIES:
        _outside_records(world)
        area = world.tree["DS1C1"]
        policy = Policy.objects.create(
            name=OUTSIDE_TITLE,
            conditions={},
            area=area,
            area_path=area.path,
            created_by=world.users["outside_submitter"],
        )
        _OUTSIDE_POLICIES[id(world)] = str(policy.pk)
    return _OUTSIDE_POLICIES[id(world)]


def _resident_import_job(world: World) -> str:
    """A resident import into a community of the other street (DS1C1)."""
    from residents.models import ImportJob

    community = world.tree["DS1C1"]
    job = ImportJob.objects.create(
        kind="resident",
        community=community,
        area_path=community.path,
        file_name="居民.csv",
        file_format="csv",
        content="姓名,身份证号,门牌\n欧阳外街,370203198005055558,MP-1\n".encode(),
        header=["姓名", "身份证号", "门牌"],
        mapping={"name": "姓名", "id_number": "身份证号", "house_code": "门牌"},
        created_by=world.users["outside_street_command"],
    )
    return str(job.pk)


def _report(world: World) -> str:
    """A published report of the outside street (figures as generated for its month)."""
    from analytics.services.reports import report_generate

    report = report_generate(area=world.tree["DS1"], year=2026, month=1, publish=True)
    return str(report.pk)


def _reply_template(world: World) -> str:
    """A reply template of the district (only its district centre edits it)."""
    from appeals.models import ReplyTemplate

    template, _created = ReplyTemplate.objects.get_or_create(
        title="矩阵模板", defaults={"district": world.tree["D"], "text": "模板正文"}
    )
    return str(template.pk)


def _notification(world: World):
    return Notification.objects.create(
        petition=world.outside, phone=OUTSIDE_PHONE, kind="k", message="m", next_attempt_at=timezone.now()
    )


def _patrol(world: World):
    """A patrol of the outside grid by someone from there, still under way."""
    from appeals.models import Patrol

    worker = world.users["outside_street_command"]
    return Patrol.objects.get_or_create(
        client_key="matrix-outside",
        defaults={"grid": world.outside.grid, "worker": worker, "started_at": timezone.now()},
    )[0]


# --- Walking the URL configuration ----------------------------------------------------------------


def _params(pattern) -> tuple[str, ...]:
    converters = getattr(pattern, "converters", None)
    if converters:
        return tuple(converters)
    return tuple(pattern.regex.groupindex)


def routes(patterns=None, prefix: str = "", namespace: str = "", params: tuple = ()) -> Iterator[Route]:
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            space = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from routes(entry.url_patterns, prefix + str(entry.pattern), space, params + _params(entry.pattern))
        else:
            pattern = prefix + str(entry.pattern)
            key = f"{namespace}{entry.name}" if entry.name else pattern
            yield Route(key=key, pattern=pattern, params=params + _params(entry.pattern))


def _admin_model(route: Route) -> tuple[str, str] | None:
    """(app.model, view) of a model admin page, else None."""
    match = re.match(r"admin/(\w+)/(\w+)/", route.pattern)
    if not match or not route.pattern.startswith("admin/") or route.key.startswith("admin:app_list"):
        return None
    label = f"{match[1]}.{match[2]}"
    if route.key.startswith("admin:"):
        view = route.key.rsplit("_", 1)[-1]
    else:
        view = "redirect"  # `<object_id>/` redirects to the change page
    return label, view


def rule_for(route: Route) -> tuple[Rule, str | None] | None:
    """The rule of a URL and, for model admin pages, its model label."""
    if route.key in RULES:
        return RULES[route.key], None
    admin = _admin_model(route)
    if admin is None or admin[0] not in ADMIN_MODELS or admin[1] not in ADMIN_VIEWS:
        return None
    label, view = admin
    access, _filler = ADMIN_MODELS[label]
    if ADMIN_VIEWS[view] == "add":
        return Rule("public", ADMIN_ANSWERS["permission"], reason="adding: administrators only"), label
    if view == "redirect":  # `<object_id>/`: refused like every admin page
        return Rule("object", ADMIN_REFUSED), label
    if ADMIN_VIEWS[view] == "list":
        return Rule("list", ADMIN_ANSWERS[access]), label
    return Rule(ADMIN_VIEWS[view], ADMIN_ANSWERS[access]), label


# Path parameters the matrix knows how to fill. A URL with any other parameter fails.
FILLERS: dict[str, Callable[[World, Route, str | None], list[str]]] = {
    "tracking_no": lambda world, route, label: [world.outside.tracking_no],
    "code": lambda world, route, label: ["DS1C1G1", "DS1"],
    "photo_id": lambda world, route, label: [str(world.photo.pk)],
    "notification_id": lambda world, route, label: [str(_notification(world).pk)],
    "patrol_id": lambda world, route, label: [str(_patrol(world).pk)],
    "action": lambda world, route, label: list(PAGE_ACTIONS),
    "fmt": lambda world, route, label: ["json"],
    "service_code": lambda world, route, label: [world.category.code],
    "request_id": lambda world, route, label: [world.outside.tracking_no],
    "app_label": lambda world, route, label: ["appeals", "governance"],
    "content_type_id": lambda world, route, label: [str(ContentType.objects.get_for_model(world.outside).pk)],
    "object_id": lambda world, route, label: [_admin_object_id(world, route, label)],
    "id": lambda world, route, label: [_admin_object_id(world, route, label)],  # a user's password page
    "url": lambda world, route, label: ["appeals/petition/nothing-here/"],
    "token": lambda world, route, label: [secrets.token_urlsafe(32)],
    "job_id": lambda world, route, label: [_import_job(world)],
    "policy_id": lambda world, route, label: [_outside_policy(world)],
    "building_id": lambda world, route, label: [str(_outside_records(world)["building"].pk)],
    "house_id": lambda world, route, label: [str(_outside_records(world)["house"].pk)],
    "resident_id": lambda world, route, label: [str(_outside_records(world)["resident"].pk)],
    "tag_id": lambda world, route, label: [str(_outside_records(world)["tag"].pk)],
    "import_id": lambda world, route, label: [_resident_import_job(world)],
    "report_id": lambda world, route, label: [_report(world)],
    "month": lambda world, route, label: ["2026-11"],
    "template_id": lambda world, route, label: [_reply_template(world)],
}


_ADMIN_IDS: dict[tuple[int, str], str] = {}


def _admin_object_id(world: World, route: Route, label: str | None) -> str:
    if label is None:  # view_on_site: the outside petition
        return str(world.outside.pk)
    key = (id(world), label)
    if key not in _ADMIN_IDS:  # one object per model and world, made on first use
        instance = ADMIN_MODELS[label][1](world)
        _ADMIN_IDS[key] = str(instance.pk) if instance is not None else "999999"
    return _ADMIN_IDS[key]


def _fill(pattern: str, values: dict[str, str]) -> str:
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m[1]], pattern)
    url = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values[m[1]], url)
    return "/" + url.replace("^", "").replace("$", "").replace("\\.", ".")


def urls_for(world: World, route: Route, label: str | None) -> list[str]:
    choices: list[dict[str, str]] = [{}]
    for name in route.params:
        choices = [{**chosen, name: value} for chosen in choices for value in FILLERS[name](world, route, label)]
    return [_fill(route.pattern, chosen) for chosen in choices]


# --- The tests -------------------------------------------------------------------------------------


def test_every_url_has_a_rule_and_every_parameter_a_filler():
    unknown = [route.key for route in routes() if rule_for(route) is None]
    assert unknown == [], "URLs the permission matrix does not know: add them to RULES or ADMIN_MODELS"
    unfilled = sorted({f"{route.key}: {name}" for route in routes() for name in route.params if name not in FILLERS})
    assert unfilled == [], "path parameters without a filler: add them to FILLERS"
    public = [key for key, rule in RULES.items() if rule.kind == "public" and not rule.reason]
    assert public == [], "every public URL names its reason"


def _group(role: str) -> str:
    return "staff" if role in STAFF else role


def _judge(response, expected: set, url: str) -> bool:
    status = response.status_code
    if status in expected:
        return True
    if status != 302:
        return False
    location = response["Location"]
    if LOGIN in expected and location.startswith("/accounts/login/"):
        return True
    if ADMIN_LOGIN in expected and location.startswith("/admin/login/"):
        return True
    if TRACK_FORM in expected and location.startswith("/petitions/track/?"):
        return True
    return ANY_REDIRECT in expected and location.split("?")[0] != url


MARKERS = (OUTSIDE_TITLE, OUTSIDE_PHONE, OUTSIDE_NAME)
MIN_CELLS_PER_ROLE = 200


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.parametrize("role", MATRIX_ROLES)
def test_no_role_reaches_an_object_outside_its_area(role, world):
    _ADMIN_IDS.clear()
    _OUTSIDE_POLICIES.clear()
    _OUTSIDE_RECORDS.clear()
    client = Client()
    if role != "anonymous":
        client.force_login(world.users[role])
    markers = (*MARKERS, world.outside.tracking_no)
    failures = []
    cells = 0
    for route in routes():
        rule, label = rule_for(route)
        group = _group(role)
        for url in urls_for(world, route, label):
            query = rule.query(world) if rule.query else {}
            requests = [("GET", rule.answers[group], lambda url=url, query=query: client.get(url, query))]
            if rule.post is not None:
                data = {
                    key: value.format(
                        tracking_no=world.outside.tracking_no, outside_microgrid=world.tree["DS1C1G1M1"].pk
                    )
                    for key, value in rule.post_data.items()
                }
                requests.append(("POST", rule.post[group], lambda url=url, data=data: client.post(url, data)))
            for method, expected, call in requests:
                cells += 1
                response = call()
                body = b"" if getattr(response, "streaming", False) else response.content
                shown = [marker for marker in markers if marker.encode() in body]
                # Public pages may carry the tracking number the visitor typed, never personal data.
                if rule.kind == "public":
                    shown = [marker for marker in shown if marker in (OUTSIDE_PHONE, OUTSIDE_NAME)]
                if response.status_code >= 500 or not _judge(response, expected, url) or shown:
                    failures.append(
                        f"{method} {url} ({route.key}) as {role}: {response.status_code} "
                        f"{response.get('Location', '')} expected {sorted(map(str, expected))}"
                        + (f", shows {shown}" if shown else "")
                    )
    print(f"permission matrix: {cells} cells as {role}")
    assert cells >= MIN_CELLS_PER_ROLE, "the matrix shrank: did the URL walk lose patterns?"
    assert failures == [], "\n".join(failures)
