"""Submission, routing and placement of petitions, and repeat-complaint linking."""

from __future__ import annotations

import math
import re
import secrets
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connections, router, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals import policy
from appeals.models import (
    OPEN_STATUSES,
    Category,
    Channel,
    EventType,
    HandlingMode,
    NeedType,
    Petition,
    PetitionEvent,
    Status,
    Tier,
    Urgency,
)
from appeals.services import _base
from appeals.services.deadlines import start_clock
from appeals.services.notifications import notify_area_staff, notify_submitter_received
from governance.errors import DomainError
from governance.identity import is_valid_phone, normalize_phone
from governance.prepared import execute_prepared
from governance.selectors import area_chain
from grids.models import Area, AreaLevel
from grids.spatial import microgrid_at
from residents.selectors import house_for_address, house_for_doorplate

TRACKING_ATTEMPTS = 5
# Channels where residents file for themselves: they get a text with the number and their link.
# (12345 callers hear from the hotline; staff and patrol entries are made with the resident.)
RECEIPT_CHANNELS = frozenset({Channel.MOBILE, Channel.DOORPLATE, Channel.OPEN311})


@dataclass(frozen=True)
class Submission:
    petition: Petition
    created: bool


def _validate(
    *,
    title: str,
    description: str,
    contact_phone: str,
    contact_name: str,
    address: str,
    lon,
    lat,
    category: Category | None,
    channel: str,
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if len(contact_name) > 50:
        errors["contact_name"] = _("The name can be at most 50 characters.")
    if len(address) > 200:
        errors["address"] = _("The address can be at most 200 characters.")
    if not title.strip():
        errors["title"] = _("Please give the petition a short title.")
    elif len(title) > 100:
        errors["title"] = _("The title can be at most 100 characters.")
    if not description.strip():
        errors["description"] = _("Please describe the problem.")
    elif len(description) > 2000:
        errors["description"] = _("The description can be at most 2,000 characters.")
    if channel not in Channel.values:
        errors["channel"] = _("Unknown channel.")
    if contact_phone and not is_valid_phone(contact_phone):
        errors["contact_phone"] = _("Please give a valid phone number (11-digit mobile or landline).")
    if channel in (Channel.MOBILE, Channel.HOTLINE, Channel.DOORPLATE) and not contact_phone:
        errors["contact_phone"] = _("Please give a phone number so we can reach you.")
    if (lon is None) != (lat is None):
        errors["location"] = _("Give both longitude and latitude, or neither.")
    elif lon is not None and not (-180 <= lon <= 180 and -90 <= lat <= 90):
        errors["location"] = _("The location is not a valid longitude/latitude.")
    if category is not None and (category.parent_id is None or not category.is_active):
        errors["category"] = _("Choose a sub-class of an active category.")
    return errors


def _tracking_number(at) -> str:
    local = timezone.localtime(at)
    return f"{local:%y%m%d}{secrets.randbelow(10**6):06d}"


def petition_submit(
    *,
    channel: str,
    title: str,
    description: str,
    contact_phone: str = "",
    contact_name: str = "",
    category: Category | None = None,
    lon: float | None = None,
    lat: float | None = None,
    address: str = "",
    reported_area: Area | None = None,
    submitter: Any = None,
    need_type: str = NeedType.INDIVIDUAL,
    urgency: str = Urgency.NORMAL,
    handling_mode: str = HandlingMode.FAST,
    idempotency_key: str | None = None,
    external_ref: str = "",
    actor: Any = None,
    actor_label: str = "",
    created_at=None,
) -> Submission:
    """Store a new petition (committed before anything else happens) and queue its routing.

    A repeated `idempotency_key` (or the same channel + `external_ref`) returns the first petition.
    """
    existing = _existing(idempotency_key, channel, external_ref)
    if existing is not None:
        return Submission(existing, created=False)
    contact_phone = normalize_phone(contact_phone)
    duplicate = _recent_duplicate(channel=channel, title=title, description=description, contact_phone=contact_phone)
    if duplicate is not None:
        return Submission(duplicate, created=False)
    errors = _validate(
        title=title,
        description=description,
        contact_phone=contact_phone,
        contact_name=contact_name.strip(),
        address=address.strip(),
        lon=lon,
        lat=lat,
        category=category,
        channel=channel,
    )
    if errors:
        raise DomainError(_("Some fields are not valid."), code="validation_error", extra={"fields": errors})
    at = created_at or timezone.now()
    location = _location_columns(reported_area) if reported_area else {}
    for _attempt in range(TRACKING_ATTEMPTS):
        petition = Petition(
            tracking_no=_tracking_number(at),
            idempotency_key=idempotency_key or None,
            channel=channel,
            external_ref=external_ref,
            submitter=submitter if getattr(submitter, "pk", None) else None,
            contact_name=contact_name.strip(),
            contact_phone=contact_phone,
            title=title.strip(),
            description=description.strip(),
            category=category,
            need_type=need_type,
            urgency=urgency,
            handling_mode=handling_mode,
            lon=lon,
            lat=lat,
            address=address.strip(),
            reported_area=reported_area,
            suggested_department_id=category.default_department_id if category else None,
            created_at=at,
            # Visible from submission on to the staff of the reported area, as routing will place it.
            **location,
        )
        event = _base.build_event(
            petition,
            EventType.SUBMITTED,
            actor=actor or submitter,
            actor_label=actor_label,
            extra={"channel": channel},
            at=at,
        )
        try:
            if channel in RECEIPT_CHANNELS:
                # The receipt text is written with the petition, or neither is.
                with transaction.atomic():
                    _insert_with_event(petition, event)
                    notify_submitter_received(petition)
            else:
                _insert_with_event(petition, event)
        except IntegrityError:
            existing = _existing(idempotency_key, channel, external_ref)
            if existing is not None:  # a concurrent retry of the same submission won the race
                return Submission(existing, created=False)
            continue  # tracking-number collision: draw another
        _base.enqueue("appeals.route_petition", petition.pk)
        return Submission(petition, created=True)
    raise DomainError(_("Could not allocate a tracking number; please try again."), code="busy")


def _location_columns(area: Area) -> dict[str, Any]:
    """`_base.location_columns` read through the per-process area cache: no query once it is warm."""
    chain = area_chain(area.path)
    return {
        "microgrid": chain.get(AreaLevel.MICROGRID),
        "grid": chain.get(AreaLevel.GRID),
        "community": chain.get(AreaLevel.COMMUNITY),
        "street": chain.get(AreaLevel.STREET),
        "area_path": area.path,
    }


def _insert_with_event(petition: Petition, event: PetitionEvent) -> None:
    """Insert a new petition and its first event, atomically.

    On PostgreSQL this is one statement (`WITH p AS (INSERT … RETURNING id) INSERT INTO events …`):
    atomic on its own, so outside a transaction it needs no BEGIN and COMMIT — one round trip
    instead of four on the intake request; its text never changes, so it is prepared once per
    connection and planned once (`governance.prepared`). Inside a transaction it runs in a
    savepoint, so a tracking-number collision can be retried. Other databases take the ORM's two
    inserts.
    """
    connection = connections[router.db_for_write(Petition)]
    if connection.vendor != "postgresql":
        with transaction.atomic(using=connection.alias):
            petition.save(force_insert=True, using=connection.alias)
            event.petition = petition
            event.save(force_insert=True, using=connection.alias)
        return
    petition_fields, event_fields, sql, types = _insert_statement(connection)

    def values(obj: Any, fields: list) -> list:
        return [f.get_db_prep_save(f.pre_save(obj, True), connection=connection) for f in fields]

    params = values(petition, petition_fields) + values(event, event_fields)
    with transaction.atomic(using=connection.alias) if connection.in_atomic_block else nullcontext():
        with connection.cursor() as cursor:
            execute_prepared(cursor, connection.alias, "appeals_intake", sql, params, types)
            petition_id, event_id = cursor.fetchone()
    for obj, pk in ((petition, petition_id), (event, event_id)):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    event.petition = petition


# Per database alias: (petition fields, event fields, statement, parameter types) of the insert.
_INSERT_STATEMENTS: dict[str, tuple[list, list, str, list[str]]] = {}


def _insert_statement(connection: Any) -> tuple[list, list, str, list[str]]:
    """The one statement inserting a petition and its first event, built once per database: the same
    text each time, so it is prepared once per connection (`governance.prepared`)."""
    cached = _INSERT_STATEMENTS.get(connection.alias)
    if cached is not None:
        return cached
    qn = connection.ops.quote_name
    petition_fields = [f for f in Petition._meta.concrete_fields if not f.primary_key]
    event_fields = [f for f in PetitionEvent._meta.concrete_fields if not f.primary_key and f.name != "petition"]

    def columns(fields: list) -> str:
        return ", ".join(qn(f.column) for f in fields)

    petition_pk = qn(Petition._meta.pk.column)
    sql = (
        f"WITH p AS (INSERT INTO {qn(Petition._meta.db_table)} ({columns(petition_fields)}) "
        f"VALUES ({', '.join(['%s'] * len(petition_fields))}) RETURNING {petition_pk}) "
        f"INSERT INTO {qn(PetitionEvent._meta.db_table)} "
        f"({qn(PetitionEvent._meta.get_field('petition').column)}, {columns(event_fields)}) "
        f"VALUES ((SELECT {petition_pk} FROM p), {', '.join(['%s'] * len(event_fields))}) "
        f"RETURNING {qn(PetitionEvent._meta.get_field('petition').column)}, {qn(PetitionEvent._meta.pk.column)}"
    )
    types = [f.db_type(connection) for f in (*petition_fields, *event_fields)]
    _INSERT_STATEMENTS[connection.alias] = (petition_fields, event_fields, sql, types)
    return _INSERT_STATEMENTS[connection.alias]


def _existing(idempotency_key: str | None, channel: str, external_ref: str) -> Petition | None:
    if idempotency_key:
        found = Petition.objects.filter(idempotency_key=idempotency_key).first()
        if found:
            return found
    if external_ref:
        return Petition.objects.filter(channel=channel, external_ref=external_ref).first()
    return None


# Channels where a person types the form and may post it twice (Back, then Submit).
RESIDENT_CHANNELS = (Channel.MOBILE, Channel.DOORPLATE)


def _recent_duplicate(*, channel: str, title: str, description: str, contact_phone: str) -> Petition | None:
    """The same resident's identical petition filed moments ago (PETITION_DUPLICATE_WINDOW_SECONDS)."""
    window = settings.PETITION_DUPLICATE_WINDOW_SECONDS
    if channel not in RESIDENT_CHANNELS or not contact_phone or not window:
        return None
    since = timezone.now() - timedelta(seconds=window)
    return (
        Petition.objects.filter(
            channel__in=RESIDENT_CHANNELS,
            contact_phone=contact_phone,
            title=title.strip(),
            description=description.strip(),
            created_at__gte=since,
        )
        .order_by("created_at", "pk")
        .first()
    )


def _locate(petition: Petition) -> Area | None:
    """The micro-grid of the petition: its doorplate or address's house first, then its point."""
    house = None
    if petition.channel == Channel.DOORPLATE and petition.external_ref:
        house = house_for_doorplate(petition.external_ref)
    if house is None and petition.address:
        house = house_for_address(petition.address)
    if house is not None:
        return house.microgrid
    if petition.lon is not None and petition.lat is not None:
        hit = microgrid_at(petition.lon, petition.lat)
        if hit is not None:
            return Area.objects.get(pk=hit.area_id)
    return None


def _intake_area(petition: Petition) -> Area:
    """Where an unlocated petition waits: the reported community or street, else the district."""
    area = petition.reported_area
    if area is not None:
        if area.level > AreaLevel.COMMUNITY:
            area = _base.area_chain(area)[AreaLevel.COMMUNITY]
        return area
    district = Area.objects.filter(level=AreaLevel.DISTRICT).order_by("code").first()
    if district is None:
        raise DomainError(_("No district is configured."), code="no_district")
    return district


def petition_route(*, petition_id: int) -> Petition | None:
    """Route a submitted petition to its grid, or to an intake queue. Idempotent."""
    with transaction.atomic():
        petition = _base.lock(petition_id)
        if petition.status != Status.SUBMITTED:
            return None  # already routed (a duplicate delivery or the sweeper got there first)
        from_status = petition.status
        microgrid = _locate(petition)
        now = _base.now()
        fields = ["status", "tier", "handler_area"]
        if microgrid is not None:
            move = _base.check_move(petition.status, "route")
            fields += _base.place_in_area(petition, microgrid)
            petition.status = move.target
            petition.tier = Tier.GRID
            petition.handler_area = petition.grid
            fields += start_clock(petition, phase="accept", at=now)
            fields += _base.round_start(petition, EventType.ROUTED, at=now)
            event = EventType.ROUTED
        else:
            move = _base.check_move(petition.status, "route_to_intake")
            area = _intake_area(petition)
            fields += _base.place_in_area(petition, area)
            petition.status = move.target
            petition.tier = _base.LEVEL_TIER.get(area.level, Tier.DISTRICT)
            petition.handler_area = area
            event = EventType.ROUTED
        _base.save(petition, fields)
        _base.record(
            petition,
            event,
            from_status=from_status,
            extra={"area": petition.handler_area.code, "located": microgrid is not None},
            at=now,
        )
        notify_area_staff(
            area=petition.handler_area,
            petition=petition,
            kind="new_petition",
            message=_("New petition %(no)s: %(title)s") % {"no": petition.tracking_no, "title": petition.title},
        )
        if microgrid is not None:
            link_repeat(petition)
    return petition


def petition_place(*, petition_id: int, actor: Any, area: Area, note: str = "") -> Petition:
    """A person places a petition from the intake queue, or re-routes a returned one."""
    return _assign_to_area(petition_id=petition_id, actor=actor, area=area, note=note, action="place")


def petition_transfer(*, petition_id: int, actor: Any, area: Area, note: str = "") -> Petition:
    """一键转办: a case in hand goes to another street, community or grid, which must accept it."""
    return _assign_to_area(petition_id=petition_id, actor=actor, area=area, note=note, action="transfer")


def _assign_to_area(*, petition_id: int, actor: Any, area: Area, note: str, action: str) -> Petition:
    with transaction.atomic():
        petition, move = _base.begin(petition_id, action)
        policy.require(actor, action, petition)
        if actor is not None and not _base.scope_for(actor).sees_area(area):
            raise DomainError(_("You can only place petitions inside your own area."), code="forbidden")
        if area.level == AreaLevel.MICROGRID:
            area = area.parent
        if action == "transfer" and area.pk == petition.handler_area_id:
            message = _("The petition is already handled there: choose another unit.")
            raise DomainError(message, code="validation_error", extra={"fields": {"area": message}})
        from_status, from_tier = petition.status, petition.tier
        fields = ["status", "tier", "handler_area", "handler_department", "escalated_on_deadline"]
        if area.level >= AreaLevel.GRID or not petition.area_path.startswith(area.path):
            fields += _base.place_in_area(petition, area)
        petition.status = move.target
        petition.tier = _base.LEVEL_TIER[area.level]
        petition.handler_area = area
        petition.handler_department = None
        petition.escalated_on_deadline = False
        now = _base.now()
        event = EventType.PLACED if from_status == Status.INTAKE else EventType.REROUTED
        fields += start_clock(petition, phase="accept", at=now)
        fields += _base.round_start(petition, event, at=now)
        _base.save(petition, fields)
        _base.record(
            petition,
            event,
            actor=actor,
            from_status=from_status,
            from_tier=from_tier,
            note=note,
            extra={"area": area.code},
            at=now,
        )
        notify_area_staff(
            area=area,
            petition=petition,
            kind="new_petition",
            message=_("New petition %(no)s: %(title)s") % {"no": petition.tracking_no, "title": petition.title},
        )
    return petition


# --- Repeat complaints -----------------------------------------------------------------------------


def _bigrams(text: str) -> set[str]:
    cleaned = re.sub(r"\W+", "", text.lower())
    return {cleaned[i : i + 2] for i in range(len(cleaned) - 1)} or ({cleaned} if cleaned else set())


def text_similarity(a: str, b: str) -> float:
    first, second = _bigrams(a), _bigrams(b)
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    dx = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    dy = math.radians(lat2 - lat1)
    return 6_371_000 * math.hypot(dx, dy)


def repeat_candidates(petition: Petition) -> list[Petition]:
    """Open petitions that look like the same complaint, most similar first."""
    if petition.category_id is None:
        return []
    since = petition.created_at - timedelta(days=settings.REPEAT_WINDOW_DAYS)
    queryset = Petition.objects.filter(
        category_id=petition.category_id, created_at__gte=since, status__in=OPEN_STATUSES - {Status.SUBMITTED}
    ).exclude(pk=petition.pk)
    radius = settings.REPEAT_DISTANCE_METRES
    if petition.lon is not None and petition.lat is not None:
        dlat = radius / 111_000
        dlon = dlat / max(math.cos(math.radians(petition.lat)), 0.01)
        near = queryset.filter(
            lon__range=(petition.lon - dlon, petition.lon + dlon), lat__range=(petition.lat - dlat, petition.lat + dlat)
        )
        nearby = [
            p for p in near[:200] if p.lon is not None and _metres(petition.lon, petition.lat, p.lon, p.lat) <= radius
        ]
    else:
        nearby = []
    if petition.microgrid_id:
        nearby += list(queryset.filter(microgrid_id=petition.microgrid_id).exclude(pk__in=[p.pk for p in nearby])[:200])
    text = f"{petition.title} {petition.description}"
    scored = [(text_similarity(text, f"{p.title} {p.description}"), p) for p in nearby]
    return [p for score, p in sorted(scored, key=lambda sp: -sp[0]) if score >= settings.REPEAT_SIMILARITY]


def link_repeat(petition: Petition) -> Petition | None:
    """Link the petition to the cluster of its most similar open neighbour; returns the root."""
    candidates = repeat_candidates(petition)
    if not candidates:
        return None
    match = candidates[0]
    root_id = match.repeat_of_id or match.pk
    petition.repeat_of_id = root_id
    _base.save(petition, ["repeat_of"])
    Petition.objects.filter(pk=root_id).update(repeat_count=F("repeat_count") + 1)
    _base.check_move(petition.status, "link_repeat")
    _base.record(
        petition,
        EventType.REPEAT_LINKED,
        from_status=petition.status,
        extra={"repeat_of": root_id, "matched": match.pk},
    )
    return Petition.objects.get(pk=root_id)
