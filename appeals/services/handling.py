"""Transitions of handling: accept, handle, reply, escalate, return, extension, urge, supervise."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals import policy
from appeals.lifecycle import check_move
from appeals.models import (
    Assignment,
    AssignmentStatus,
    EventType,
    ExtensionRequest,
    ExtensionStatus,
    Petition,
    Status,
    Tier,
)
from appeals.services import _base
from appeals.services.deadlines import start_clock, stop_clock
from appeals.services.notifications import Notice, notify_area_staff, notify_staff, notify_submitter_resolved
from governance.errors import Conflict, DomainError, NotFound


def _required_text(text: str, field: str, message: str) -> str:
    if not text or not text.strip():
        raise DomainError(message, code="validation_error", extra={"fields": {field: message}})
    return text.strip()


def petition_accept(*, petition_id: int, actor: Any) -> Petition:
    """签收: the handling unit takes the petition; the handling clock starts."""
    with transaction.atomic():
        petition, move = _base.begin(petition_id, "accept")
        policy.require(actor, "accept", petition)
        now = _base.now()
        from_status = petition.status
        petition.status = move.target
        # The first acceptance; each round keeps its own (HandlingRound), never cleared.
        petition.accepted_at = petition.accepted_at or now
        petition.first_response_at = petition.first_response_at or now
        fields = ["status", "accepted_at", "first_response_at", *start_clock(petition, phase="handle", at=now)]
        _base.save(petition, fields)
        _base.round_update(petition, accepted_at=now, responded_at=now, handle_due_at=petition.deadline_at)
        _base.record(
            petition, EventType.ACCEPTED, actor=actor, from_status=from_status, from_tier=petition.tier, at=now
        )
    return petition


def petition_handle(*, petition_id: int, actor: Any, note: str = "", handling_mode: str = "") -> Petition:
    """Start handling, optionally choosing the handling mode (即办、快办、分办、联办、顶格办)."""
    with transaction.atomic():
        petition, move = _base.begin(petition_id, "handle")
        policy.require(actor, "handle", petition)
        from_status = petition.status
        petition.status = move.target
        fields = ["status"]
        extra = {}
        if handling_mode and handling_mode != petition.handling_mode:
            petition.handling_mode = handling_mode
            fields.append("handling_mode")
            extra["handling_mode"] = handling_mode
        _base.save(petition, fields)
        _base.record(
            petition,
            EventType.HANDLING,
            actor=actor,
            from_status=from_status,
            from_tier=petition.tier,
            note=note,
            extra=extra,
        )
    return petition


def petition_note_progress(*, petition_id: int, actor: Any, note: str) -> Petition:
    note = _required_text(note, "note", _("Please write what was done."))
    with transaction.atomic():
        petition, _move = _base.begin(petition_id, "note_progress")
        policy.require(actor, "note_progress", petition)
        _base.record(petition, EventType.PROGRESS, actor=actor, from_status=petition.status, note=note)
    return petition


def petition_reply(*, petition_id: int, actor: Any, reply: str) -> Petition:
    """The handling unit replies to the resident; the petition is resolved and awaits a rating."""
    reply = _required_text(reply, "reply", _("Please write the reply to the resident."))
    with transaction.atomic():
        petition, move = _base.begin(petition_id, "reply")
        policy.require(actor, "reply", petition)
        now = _base.now()
        from_status = petition.status
        petition.status = move.target
        petition.reply = reply
        petition.resolved_at = now
        petition.first_response_at = petition.first_response_at or now
        _base.save(petition, ["status", "reply", "resolved_at", "first_response_at", *stop_clock(petition)])
        _base.round_update(petition, resolved_at=now, responded_at=now)
        _base.record(
            petition,
            EventType.RESOLVED,
            actor=actor,
            from_status=from_status,
            from_tier=petition.tier,
            note=reply,
            at=now,
        )
        notify_submitter_resolved(petition)
    return petition


def escalate_locked(
    petition: Petition, *, actor: Any, note: str, automatic: bool, now: datetime, writes: _base.Writes | None = None
) -> None:
    """Move a locked petition one tier up (grid → community → street → district).

    At the district there is no tier above: an automatic escalation marks it escalated on deadline and
    supervised, stops the clock and alerts the district centre. `writes` lets a sweep collect the
    writes of a whole batch.
    """
    writes = writes or _base.Writes()
    if not hasattr(petition, "_deadline_in_force"):
        _base.remember_deadline(petition)
    from_status, from_tier = petition.status, petition.tier
    event = EventType.AUTO_ESCALATED if automatic else EventType.ESCALATED
    if from_tier is None or from_tier >= Tier.DISTRICT:
        if not automatic:
            raise DomainError(_("The petition is already at the district; there is no tier above."), code="top_tier")
        check_move(petition.status, "auto_supervise")  # nobody above: the status stays
        petition.escalated_on_deadline = True
        petition.supervised = True
        writes.save(petition, ["escalated_on_deadline", "supervised", *stop_clock(petition)])
        writes.record(petition, event, actor=actor, from_status=from_status, from_tier=from_tier, note=note, at=now)
        writes.notify(
            Notice(
                petition,
                "overdue",
                _("Petition %(no)s is overdue at the district.") % {"no": petition.tracking_no},
                area_id=petition.handler_area_id,
            )
        )
        return
    tier = Tier(from_tier + 1)
    area = _base.area_for_tier(petition, tier)
    petition.tier = tier
    petition.escalated_on_deadline = petition.escalated_on_deadline or automatic
    fields = ["tier", "escalated_on_deadline"]
    if petition.status == Status.DISPATCHED:
        # Departments keep the case; the tier above now supervises it and owns its deadline.
        check_move(petition.status, "auto_supervise" if automatic else "escalate")
        petition.supervised = True
        fields += ["supervised", *start_clock(petition, phase="handle", at=now)]
        writes.round_update(petition, handle_due_at=petition.deadline_at)
    else:
        petition.status = check_move(petition.status, "auto_escalate" if automatic else "escalate").target
        petition.handler_area = area
        fields += ["status", "handler_area", *start_clock(petition, phase="accept", at=now)]
        fields += writes.round_start(petition, event, at=now)
    writes.save(petition, fields)
    writes.record(
        petition,
        event,
        actor=actor,
        from_status=from_status,
        from_tier=from_tier,
        note=note,
        extra={"area": area.code if area else None},
        at=now,
    )
    if area is not None:
        writes.notify(
            Notice(
                petition,
                "escalated",
                _("Petition %(no)s was escalated to you: %(title)s")
                % {"no": petition.tracking_no, "title": petition.title},
                area_id=area.pk,
            )
        )


def petition_escalate(*, petition_id: int, actor: Any, note: str) -> Petition:
    """大事不出社区: the handling unit passes what it cannot solve one tier up."""
    note = _required_text(note, "note", _("Please say why the petition goes up a tier."))
    with transaction.atomic():
        petition, _move = _base.begin(petition_id, "escalate")
        policy.require(actor, "escalate", petition)
        escalate_locked(petition, actor=actor, note=note, automatic=False, now=_base.now())
    return petition


def petition_return(*, petition_id: int, actor: Any, reason: str, department_id: int | None = None) -> Petition:
    """退单: a wrongly routed case goes back to the tier above (or the dispatcher) with a reason.

    The returned case waits in that tier's queue (status "returned") where the dispute is visible,
    until someone there re-routes it.
    """
    reason = _required_text(reason, "reason", _("Please give the reason for returning the petition."))
    with transaction.atomic():
        petition, move = _base.begin(petition_id, "return")
        from_status, from_tier = petition.status, petition.tier
        now = _base.now()
        if petition.status == Status.DISPATCHED:
            if department_id is None:
                raise DomainError(_("Say which department returns the petition."), code="validation_error")
            policy.require(actor, "return", petition, department_id=department_id)
            assignment = (
                Assignment.objects.select_for_update()
                .filter(
                    petition=petition,
                    department_id=department_id,
                    status__in=[AssignmentStatus.DISPATCHED, AssignmentStatus.REPORTED_IN],
                )
                .first()
            )
            if assignment is None:
                raise DomainError(_("This department holds no open part of the petition."), code="not_assigned")
            Assignment.objects.filter(petition=petition).exclude(status=AssignmentStatus.CANCELLED).update(
                status=AssignmentStatus.CANCELLED
            )
            petition.handler_department = None
            target_area = petition.handler_area  # the dispatching street or district re-routes it
        else:
            policy.require(actor, "return", petition)
            upper = Tier(min((petition.tier or Tier.GRID) + 1, Tier.DISTRICT))
            target_area = _base.area_for_tier(petition, upper) or petition.handler_area
            petition.tier = upper
        petition.status = move.target
        petition.handler_area = target_area
        fields = ["status", "tier", "handler_area", "handler_department", *stop_clock(petition)]
        _base.save(petition, fields)
        _base.round_end(petition, EventType.RETURNED, at=now)
        _base.record(
            petition,
            EventType.RETURNED,
            actor=actor,
            from_status=from_status,
            from_tier=from_tier,
            note=reason,
            extra={"department_id": department_id} if department_id else {},
            at=now,
        )
        notify_area_staff(
            area=target_area,
            petition=petition,
            kind="returned",
            message=_("Petition %(no)s was returned: %(reason)s") % {"no": petition.tracking_no, "reason": reason},
        )
    return petition


def petition_ask_extension(*, petition_id: int, actor: Any, reason: str, new_deadline: datetime) -> ExtensionRequest:
    """延期: asked before the deadline passes; the tier above decides."""
    reason = _required_text(reason, "reason", _("Please give the reason for the extension."))
    with transaction.atomic():
        petition, _move = _base.begin(petition_id, "ask_extension")
        policy.require(actor, "ask_extension", petition)
        now = _base.now()
        if petition.deadline_at is None or petition.deadline_at <= now:
            raise Conflict(_("An extension must be asked before the deadline passes."), code="deadline_passed")
        if new_deadline <= petition.deadline_at:
            raise DomainError(_("The new deadline must be later than the current one."), code="validation_error")
        if petition.extensions.filter(status=ExtensionStatus.PENDING).exists():
            raise Conflict(_("An extension request is already waiting for a decision."), code="extension_pending")
        request = ExtensionRequest.objects.create(
            petition=petition,
            requested_by=actor,
            requested_at=now,
            reason=reason,
            old_deadline=petition.deadline_at,
            new_deadline=new_deadline,
        )
        _base.record(
            petition,
            EventType.EXTENSION_ASKED,
            actor=actor,
            from_status=petition.status,
            note=reason,
            extra={
                "request_id": request.pk,
                "old_deadline": petition.deadline_at.isoformat(),
                "new_deadline": new_deadline.isoformat(),
            },
            at=now,
        )
        deciders = _base.area_for_tier(petition, min((petition.tier or Tier.GRID) + 1, Tier.DISTRICT))
        notify_area_staff(
            area=deciders,
            petition=petition,
            kind="extension_asked",
            message=_("Petition %(no)s asks for an extension to %(deadline)s: please decide.")
            % {"no": petition.tracking_no, "deadline": _local_minute(new_deadline)},
        )
    return request


def petition_decide_extension(*, request_id: int, actor: Any, grant: bool, note: str = "") -> ExtensionRequest:
    with transaction.atomic():
        request = ExtensionRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None:
            raise NotFound(_("No such extension request."))
        petition, _move = _base.begin(request.petition_id, "decide_extension")
        policy.require(actor, "decide_extension", petition)
        if request.status != ExtensionStatus.PENDING:
            raise DomainError(_("This extension request was already decided."), code="already_decided")
        now = _base.now()
        request.status = ExtensionStatus.GRANTED if grant else ExtensionStatus.REFUSED
        request.decided_by = actor
        request.decided_at = now
        request.decision_note = note
        request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        old_deadline = petition.deadline_at
        if grant:
            petition.deadline_at = request.new_deadline
            petition.remind_at = None
            _base.save(petition, ["deadline_at", "remind_at"])
            due = "accept_due_at" if petition.status == Status.ASSIGNED else "handle_due_at"
            _base.round_update(petition, **{due: petition.deadline_at})
        _base.record(
            petition,
            EventType.EXTENSION_GRANTED if grant else EventType.EXTENSION_REFUSED,
            actor=actor,
            from_status=petition.status,
            note=note,
            extra={
                "request_id": request.pk,
                "old_deadline": old_deadline.isoformat() if old_deadline else None,
                "new_deadline": petition.deadline_at.isoformat() if petition.deadline_at else None,
            },
            at=now,
        )
        if grant:
            message = _("The extension of petition %(no)s was granted: the new deadline is %(deadline)s.") % {
                "no": petition.tracking_no,
                "deadline": _local_minute(petition.deadline_at),
            }
        else:
            message = _("The extension of petition %(no)s was refused.") % {"no": petition.tracking_no}
        notify_staff([handler_notice(petition, "extension_granted" if grant else "extension_refused", message)])
    return request


def _local_minute(moment: datetime) -> str:
    """A deadline as a notice shows it: Beijing time to the minute."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def petition_urge(*, petition_id: int, actor: Any, note: str = "") -> Petition:
    """催办: an upper tier prods the handling unit."""
    with transaction.atomic():
        petition, _move = _base.begin(petition_id, "urge")
        policy.require(actor, "urge", petition)
        petition.urge_count += 1
        _base.save(petition, ["urge_count"])
        _base.record(petition, EventType.URGED, actor=actor, from_status=petition.status, note=note)
        notify_staff(
            [
                handler_notice(
                    petition, "urged", _("Petition %(no)s was urged: please speed up.") % {"no": petition.tracking_no}
                )
            ]
        )
    return petition


def petition_supervise(*, petition_id: int, actor: Any, note: str = "") -> Petition:
    """督办: an upper tier puts the petition under supervision; it shows on supervision lists."""
    with transaction.atomic():
        petition, _move = _base.begin(petition_id, "supervise")
        policy.require(actor, "supervise", petition)
        petition.supervised = True
        _base.save(petition, ["supervised"])
        _base.record(petition, EventType.SUPERVISED, actor=actor, from_status=petition.status, note=note)
        notify_staff(
            [
                handler_notice(
                    petition, "supervised", _("Petition %(no)s is now supervised.") % {"no": petition.tracking_no}
                )
            ]
        )
    return petition


def handler_notice(petition: Petition, kind: str, message: str) -> Notice:
    """A notice for whoever handles the petition now: its lead department, or its handling area."""
    if petition.status == Status.DISPATCHED and petition.handler_department_id:
        return Notice(petition, kind, message, department_id=petition.handler_department_id)
    return Notice(petition, kind, message, area_id=petition.handler_area_id)
