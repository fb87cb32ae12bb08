"""巡查日志 and 主动发现: a grid worker's patrol, its notes and the problems it files as petitions.

Every write carries the phone's idempotency key: a request queued offline and sent twice (or
retried after a lost answer) changes nothing the second time and answers with the first result.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.models import Category, Channel, Patrol, PatrolNote, Petition, PetitionPhoto
from appeals.services.intake import petition_submit
from governance.errors import Conflict, DomainError, Forbidden
from governance.models import Role
from governance.scoping import scope_for
from grids.models import Area, AreaLevel

PATROL_ROLES = (Role.GRID_WORKER, Role.MICROGRID_HEAD)


def patrol_grids(user: Any) -> list[Area]:
    """The grids a user may patrol: those of their grid-worker posts, the grid of a micro-grid head."""
    scope = scope_for(user)
    if not scope.has_role(*PATROL_ROLES):
        return []
    ids = [area_id for _path, level, area_id in scope.areas if level == AreaLevel.GRID]
    microgrids = [area_id for _path, level, area_id in scope.areas if level == AreaLevel.MICROGRID]
    if microgrids:
        ids += list(Area.objects.filter(pk__in=microgrids).values_list("parent_id", flat=True))
    return list(Area.objects.filter(pk__in=set(ids)).order_by("code"))


def patrol_open_for(user: Any) -> Patrol | None:
    return Patrol.objects.filter(worker=user, ended_at__isnull=True).select_related("grid").first()


def _key(client_key: str) -> str:
    key = (client_key or "").strip()
    if not key or len(key) > 80:
        raise DomainError(_("This form has expired. Please reload the page."), code="validation_error")
    return key


def patrol_start(*, worker: Any, grid: Area, client_key: str) -> Patrol:
    key = _key(client_key)
    if existing := Patrol.objects.filter(client_key=key, worker=worker).first():
        return existing
    if grid not in patrol_grids(worker):
        raise Forbidden(_("You can only patrol your own grid."))
    try:
        with transaction.atomic():
            return Patrol.objects.create(grid=grid, worker=worker, started_at=timezone.now(), client_key=key)
    except IntegrityError:
        if existing := Patrol.objects.filter(client_key=key, worker=worker).first():
            return existing
        raise Conflict(_("You already have a patrol under way: close it first."), code="patrol_open") from None


def _own_open(patrol_id: int, worker: Any) -> Patrol:
    patrol = Patrol.objects.select_for_update().filter(pk=patrol_id, worker=worker).first()
    if patrol is None:
        raise Forbidden(_("This is not your patrol."))
    if patrol.ended_at is not None:
        raise Conflict(_("This patrol is already closed."), code="patrol_closed")
    return patrol


def patrol_note(
    *,
    patrol_id: int,
    worker: Any,
    place: str,
    seen: str = "",
    done: str = "",
    lon: float | None = None,
    lat: float | None = None,
    client_key: str,
) -> PatrolNote:
    key = _key(client_key)
    if existing := PatrolNote.objects.filter(client_key=key, patrol__worker=worker).first():
        return existing
    place = (place or "").strip()
    if not place:
        message = _("Please say where you are.")
        raise DomainError(message, code="validation_error", extra={"fields": {"place": message}})
    with transaction.atomic():
        patrol = _own_open(patrol_id, worker)
        return PatrolNote.objects.create(
            patrol=patrol,
            noted_at=timezone.now(),
            place=place[:200],
            seen=seen.strip(),
            done=done.strip(),
            lon=lon,
            lat=lat,
            client_key=key,
        )


def patrol_report(
    *,
    patrol_id: int,
    worker: Any,
    title: str,
    description: str,
    category: Category | None,
    place: str = "",
    lon: float | None = None,
    lat: float | None = None,
    photos: list | None = None,
    client_key: str,
) -> Petition:
    """主动发现: a problem found on the patrol becomes a petition of channel patrol, located at the
    phone's position (or in the grid when it has none), with a note on the patrol pointing at it."""
    key = _key(client_key)
    if existing := PatrolNote.objects.filter(client_key=key, patrol__worker=worker, petition__isnull=False).first():
        return existing.petition
    patrol = Patrol.objects.filter(pk=patrol_id, worker=worker).select_related("grid").first()
    if patrol is None:
        raise Forbidden(_("This is not your patrol."))
    if patrol.ended_at is not None:
        raise Conflict(_("This patrol is already closed."), code="patrol_closed")
    submission = petition_submit(
        channel=Channel.PATROL,
        title=title,
        description=description,
        category=category,
        lon=lon,
        lat=lat,
        address=place,
        reported_area=patrol.grid if lon is None or lat is None else None,
        actor=worker,
        idempotency_key=f"patrol:{key}",
    )
    petition = submission.petition
    with transaction.atomic():
        locked = _own_open(patrol.pk, worker) if submission.created else patrol
        PatrolNote.objects.get_or_create(
            client_key=key,
            defaults={
                "patrol": locked,
                "noted_at": timezone.now(),
                "place": (place or petition.title)[:200],
                "seen": description,
                "lon": lon,
                "lat": lat,
                "petition": petition,
            },
        )
        if submission.created:
            for upload in photos or []:
                PetitionPhoto.objects.create(petition=petition, image=upload)
    return petition


def patrol_close(*, patrol_id: int, worker: Any, summary: str = "") -> Patrol:
    with transaction.atomic():
        patrol = Patrol.objects.select_for_update().filter(pk=patrol_id, worker=worker).first()
        if patrol is None:
            raise Forbidden(_("This is not your patrol."))
        if patrol.ended_at is None:  # closing twice (a replayed request) changes nothing
            patrol.ended_at = timezone.now()
            patrol.summary = summary.strip()
            patrol.save(update_fields=["ended_at", "summary"])
    return patrol
