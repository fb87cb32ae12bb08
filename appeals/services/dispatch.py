"""吹哨报到: the street or district dispatches a case to departments; each reports in and replies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from appeals import policy
from appeals.models import Assignment, AssignmentRole, AssignmentStatus, EventType, HandlingMode, Petition
from appeals.services import _base
from appeals.services.deadlines import start_clock, stop_clock
from appeals.services.notifications import notify_department, notify_submitter_resolved
from governance.errors import DomainError
from governance.models import Department


def petition_whistle(
    *,
    petition_id: int,
    actor: Any,
    lead_department_id: int,
    assisting_department_ids: Sequence[int] = (),
    note: str = "",
) -> Petition:
    """Turn the petition into a project handled by a lead department and any assisting ones."""
    assisting = [d for d in dict.fromkeys(assisting_department_ids) if d != lead_department_id]
    with transaction.atomic():
        petition, move = _base.begin(petition_id, "whistle")
        policy.require(actor, "whistle", petition)
        departments = {
            d.pk: d for d in Department.objects.filter(pk__in=[lead_department_id, *assisting], is_active=True)
        }
        missing = [d for d in [lead_department_id, *assisting] if d not in departments]
        if missing:
            raise DomainError(
                _("Unknown or inactive department."), code="validation_error", extra={"departments": missing}
            )
        now = _base.now()
        from_status = petition.status
        Assignment.objects.filter(petition=petition).exclude(status=AssignmentStatus.CANCELLED).update(
            status=AssignmentStatus.CANCELLED
        )
        Assignment.objects.bulk_create(
            [
                Assignment(
                    petition=petition,
                    department_id=dept_id,
                    role=AssignmentRole.LEAD if dept_id == lead_department_id else AssignmentRole.ASSIST,
                    dispatched_by=actor,
                    dispatched_at=now,
                )
                for dept_id in [lead_department_id, *assisting]
            ]
        )
        petition.status = move.target
        petition.handler_department_id = lead_department_id
        if assisting:
            petition.handling_mode = HandlingMode.JOINT
        fields = ["status", "handler_department", "handling_mode", *start_clock(petition, phase="handle", at=now)]
        _base.save(petition, fields)
        _base.round_update(petition, handle_due_at=petition.deadline_at)
        _base.record(
            petition,
            EventType.WHISTLED,
            actor=actor,
            from_status=from_status,
            from_tier=petition.tier,
            note=note,
            extra={"lead": lead_department_id, "assisting": assisting},
            at=now,
        )
        for dept_id in [lead_department_id, *assisting]:
            notify_department(
                department_id=dept_id,
                petition=petition,
                kind="dispatched",
                message=_("Petition %(no)s was dispatched to you: %(title)s")
                % {"no": petition.tracking_no, "title": petition.title},
            )
    return petition


def assignment_for_update(petition: Petition, department_id: int) -> Assignment:
    """The department's live part of the petition, locked; refused when it holds none."""
    assignment = (
        Assignment.objects.select_for_update()
        .filter(petition=petition, department_id=department_id)
        .exclude(status=AssignmentStatus.CANCELLED)
        .first()
    )
    if assignment is None:
        raise DomainError(_("This department holds no part of the petition."), code="not_assigned")
    return assignment


def assignment_report_in(*, petition_id: int, department_id: int, actor: Any) -> Assignment:
    """报到: the department confirms it has taken its part."""
    with transaction.atomic():
        petition, _move = _base.begin(petition_id, "report_in")
        policy.require(actor, "report_in", petition, department_id=department_id)
        assignment = assignment_for_update(petition, department_id)
        if assignment.status != AssignmentStatus.DISPATCHED:
            raise DomainError(_("This department has already reported in."), code="already_reported")
        now = _base.now()
        assignment.status = AssignmentStatus.REPORTED_IN
        assignment.reported_at = now
        assignment.save(update_fields=["status", "reported_at"])
        if petition.first_response_at is None:
            petition.first_response_at = now
            _base.save(petition, ["first_response_at"])
        _base.round_update(petition, responded_at=now)
        _base.record(
            petition,
            EventType.REPORTED_IN,
            actor=actor,
            from_status=petition.status,
            extra={"department_id": department_id},
            at=now,
        )
    return assignment


def assignment_reply(*, petition_id: int, department_id: int, actor: Any, reply: str) -> Assignment:
    """A department replies for its part; the lead's reply resolves the petition.

    An assisting department must reply before the lead can close the case.
    """
    if not reply or not reply.strip():
        message = _("Please write the department's reply.")
        raise DomainError(message, code="validation_error", extra={"fields": {"reply": message}})
    with transaction.atomic():
        petition, _move = _base.begin(petition_id, "department_reply")
        policy.require(actor, "department_reply", petition, department_id=department_id)
        assignment = assignment_for_update(petition, department_id)
        if assignment.status == AssignmentStatus.DISPATCHED:
            raise DomainError(_("Report in before replying."), code="not_reported_in")
        if assignment.status == AssignmentStatus.REPLIED:
            raise DomainError(_("This department has already replied."), code="already_replied")
        now = _base.now()
        if assignment.role == AssignmentRole.LEAD:
            waiting = (
                Assignment.objects.filter(petition=petition, role=AssignmentRole.ASSIST)
                .exclude(status__in=[AssignmentStatus.REPLIED, AssignmentStatus.CANCELLED])
                .count()
            )
            if waiting:
                raise DomainError(
                    _("%(n)s assisting department(s) have not replied yet.") % {"n": waiting}, code="assistants_pending"
                )
            move = _base.check_move(petition.status, "lead_reply")
        assignment.status = AssignmentStatus.REPLIED
        assignment.replied_at = now
        assignment.reply = reply.strip()
        assignment.save(update_fields=["status", "replied_at", "reply"])
        from_status = petition.status
        _base.record(
            petition,
            EventType.DEPARTMENT_REPLIED,
            actor=actor,
            from_status=from_status,
            note=assignment.reply,
            extra={"department_id": department_id, "role": assignment.role},
            at=now,
        )
        if assignment.role == AssignmentRole.LEAD:
            petition.status = move.target
            petition.reply = assignment.reply
            petition.resolved_at = now
            _base.save(petition, ["status", "reply", "resolved_at", *stop_clock(petition)])
            _base.round_update(petition, resolved_at=now, responded_at=now)
            _base.record(
                petition, EventType.RESOLVED, actor=actor, from_status=from_status, note=assignment.reply, at=now
            )
            notify_submitter_resolved(petition)
    return assignment
