"""After resolution: rating, reopening, call-backs, closing; and merging duplicates."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from appeals import policy
from appeals.lifecycle import check_move
from appeals.models import Callback, CallbackResult, EventType, Petition, Rating, RatingSource, Status
from appeals.services import _base
from appeals.services.deadlines import start_clock, stop_clock
from appeals.services.notifications import notify_area_staff
from governance.errors import DomainError


def petition_rate(
    *, petition_id: int, rating: str, actor: Any = None, contact_phone: str | None = None, note: str = ""
) -> Petition:
    """满意 / 基本满意 close the petition; 不满意 keeps it resolved so the resident may reopen it."""
    if rating not in Rating.values:
        raise DomainError(_("Choose satisfied, basically satisfied or unsatisfied."), code="validation_error")
    with transaction.atomic():
        petition, _move = _base.begin(petition_id, "rate")
        policy.require(actor, "rate", petition, contact_phone=contact_phone)
        if petition.rating:
            raise DomainError(_("This petition has already been rated."), code="already_rated")
        now = _base.now()
        from_status = petition.status
        move = check_move(petition.status, "rate" if rating == Rating.UNSATISFIED else "rate_close")
        petition.rating = rating
        petition.rated_at = now
        fields = ["rating", "rated_at"]
        if move.target is not None:
            petition.status = move.target
            petition.closed_at = now
            fields += ["status", "closed_at"]
        _base.save(petition, fields)
        _base.rating_record(petition, rating=rating, source=RatingSource.RESIDENT, at=now)
        _base.record(
            petition,
            EventType.RATED,
            actor=actor,
            actor_label="resident",
            from_status=from_status,
            note=note,
            extra={"rating": rating},
            at=now,
        )
    return petition


def petition_reopen(*, petition_id: int, actor: Any = None, contact_phone: str | None = None, reason: str) -> Petition:
    """An unsatisfied resident sends the petition back to the unit that resolved it (bounded)."""
    if not reason or not reason.strip():
        raise DomainError(_("Please say what is still wrong."), code="validation_error")
    with transaction.atomic():
        petition, move = _base.begin(petition_id, "reopen")
        staff_on_behalf = actor is not None and _base.scope_for(actor).is_staff_member
        policy.require(actor, "reopen", petition, contact_phone=contact_phone)
        if petition.rating and petition.rating != Rating.UNSATISFIED:
            raise DomainError(_("Only an unsatisfied petition can be reopened."), code="not_unsatisfied")
        if petition.reopen_count >= settings.PETITION_MAX_REOPENS:
            raise DomainError(
                _("This petition has been reopened %(n)s times, the most allowed; a call-back will follow up.")
                % {"n": petition.reopen_count},
                code="reopen_limit",
            )
        now = _base.now()
        from_status = petition.status
        petition.status = move.target
        petition.reopen_count += 1
        petition.resolved_at = None
        # The current round's rating; every rating stays in PetitionRating.
        petition.rating = ""
        petition.rated_at = None
        petition.handler_department = None
        fields = ["status", "reopen_count", "resolved_at", "rating", "rated_at", "handler_department"]
        fields += start_clock(petition, phase="accept", at=now)
        fields += _base.round_start(petition, EventType.REOPENED, at=now)
        _base.save(petition, fields)
        _base.record(
            petition,
            EventType.REOPENED,
            actor=actor,
            actor_label="" if staff_on_behalf else "resident",
            from_status=from_status,
            from_tier=petition.tier,
            note=reason.strip(),
            at=now,
        )
        notify_area_staff(
            area=petition.handler_area,
            petition=petition,
            kind="reopened",
            message=_("Petition %(no)s was reopened: %(reason)s")
            % {"no": petition.tracking_no, "reason": reason.strip()},
        )
    return petition


def petition_callback(*, petition_id: int, actor: Any, result: str, note: str = "") -> Callback:
    """回访: staff call the resident of an unrated resolved petition and record the answer."""
    if result not in CallbackResult.values:
        raise DomainError(_("Unknown call-back result."), code="validation_error")
    with transaction.atomic():
        petition, _move = _base.begin(petition_id, "callback")
        policy.require(actor, "callback", petition)
        now = _base.now()
        callback = Callback.objects.create(petition=petition, called_by=actor, called_at=now, result=result, note=note)
        from_status = petition.status
        fields: list[str] = []
        if result != CallbackResult.UNREACHABLE and not petition.rating:
            petition.rating = result
            petition.rated_at = now
            fields += ["rating", "rated_at"]
            if result != CallbackResult.UNSATISFIED:
                petition.status = check_move(petition.status, "callback_close").target
                petition.closed_at = now
                fields += ["status", "closed_at"]
            _base.rating_record(petition, rating=result, source=RatingSource.CALLBACK, at=now)
        if fields:
            _base.save(petition, fields)
        _base.record(
            petition,
            EventType.CALLBACK,
            actor=actor,
            from_status=from_status,
            note=note,
            extra={"result": result},
            at=now,
        )
    return callback


def petition_close(*, petition_id: int, actor: Any, note: str = "") -> Petition:
    """Close a resolved petition (staff after call-backs, or the system after the rating window)."""
    with transaction.atomic():
        petition, move = _base.begin(petition_id, "close")
        policy.require(actor, "close", petition)
        now = _base.now()
        from_status = petition.status
        petition.status = move.target
        petition.closed_at = now
        _base.save(petition, ["status", "closed_at"])
        _base.record(petition, EventType.CLOSED, actor=actor, from_status=from_status, note=note, at=now)
    return petition


def petition_merge(*, petition_id: int, into_id: int, actor: Any, note: str = "") -> Petition:
    """并单: fold a duplicate into a master petition; the master carries the count."""
    if petition_id == into_id:
        raise DomainError(_("A petition cannot be merged into itself."), code="validation_error")
    with transaction.atomic():
        # Lock both rows in id order so two merges of the same pair cannot deadlock.
        first, second = sorted([petition_id, into_id])
        locked = {first: _base.lock(first), second: _base.lock(second)}
        petition, master = locked[petition_id], locked[into_id]
        move = check_move(petition.status, "merge")
        policy.require(actor, "merge", petition)
        policy.require_in_scope(actor, master)
        if not master.is_open or master.status == Status.MERGED:
            raise DomainError(_("The master petition must be open."), code="master_closed")
        if master.merged_into_id == petition.pk:
            raise DomainError(_("These petitions are already merged the other way."), code="validation_error")
        now = _base.now()
        from_status = petition.status
        previous_root = petition.repeat_of_id
        # repeat_count always equals the number of rows whose repeat_of points here: the duplicate's
        # own cluster moves to the master, and the duplicate leaves any other cluster it was in.
        moved = Petition.objects.filter(repeat_of=petition).update(repeat_of=master)
        Petition.objects.filter(merged_into=petition).update(merged_into=master)
        if previous_root and previous_root != master.pk:
            Petition.objects.filter(pk=previous_root).update(repeat_count=F("repeat_count") - 1)
        added = moved + (0 if previous_root == master.pk else 1)
        Petition.objects.filter(pk=master.pk).update(repeat_count=F("repeat_count") + added)
        petition.status = move.target
        petition.merged_into = master
        petition.repeat_of = master
        petition.repeat_count = 0
        _base.save(petition, ["status", "merged_into", "repeat_of", "repeat_count", *stop_clock(petition)])
        _base.round_end(petition, EventType.MERGED, at=now)
        check_move(master.status, "absorb")
        _base.record(
            petition,
            EventType.MERGED,
            actor=actor,
            from_status=from_status,
            note=note,
            extra={"into": master.tracking_no},
            at=now,
        )
        _base.record(
            master,
            EventType.ABSORBED,
            actor=actor,
            from_status=master.status,
            note=note,
            extra={"absorbed": petition.tracking_no},
            at=now,
        )
    return petition


__all__ = ["Status", "start_clock", "stop_clock"]
