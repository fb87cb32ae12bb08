"""分派给经办人: a department's leader gives the department's part of a dispatched case to one of its staff.

The part (`Assignment`) keeps who holds it, since when and who gave it; every (re)assignment is an
event on the petition's timeline and a notice in the handler's bell, written in one transaction.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from appeals import policy
from appeals.models import Assignment, EventType, Petition
from appeals.services import _base
from appeals.services.dispatch import assignment_for_update
from appeals.services.notifications import notification_create
from governance.errors import Conflict, DomainError
from governance.identity import person_name
from governance.scoping import scope_for


def staff_name(user: Any) -> str:
    """How a colleague is named on the screens (姓名, else the user name)."""
    return person_name(user)


def department_staff(department_ids: list[int] | tuple[int, ...]) -> QuerySet:
    """The active users posted to any of the departments (the people a part can be given to)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, posts__is_active=True, posts__department_id__in=list(department_ids))
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def _invalid(field: str, message: str) -> DomainError:
    return DomainError(message, code="validation_error", extra={"fields": {field: message}})


def _department_for(actor: Any, petition: Petition, handler_id: int) -> int:
    """The one department the actor leads with a live part here (the handler's, if several)."""
    led = set(scope_for(actor).led_department_ids)
    live = sorted(
        Assignment.objects.filter(
            petition=petition, department_id__in=led, status__in=sorted(policy.OPEN_PARTS)
        ).values_list("department_id", flat=True)
    )
    if len(live) > 1:
        live = sorted(department_staff(live).filter(pk=handler_id).values_list("posts__department_id", flat=True))
        live = [department_id for department_id in live if department_id in led]
    if len(set(live)) == 1:
        return live[0]
    raise _invalid("department", _("You lead several departments on this case: say which one."))


def assignment_assign_handler(
    *, petition_id: int, actor: Any, handler_id: int, department_id: int | None = None, note: str = ""
) -> Assignment:
    """Give the department's live part of the petition to `handler_id` (a user of that department).

    Reassigning moves it from the current handler; assigning it to the one who holds it is refused.
    """
    if not handler_id:
        raise _invalid("handler", _("Choose the handler."))
    with transaction.atomic():
        petition, _move = _base.begin(petition_id, "assign_handler")
        context = {"department_id": department_id} if department_id else {}
        policy.require(actor, "assign_handler", petition, **context)
        if department_id is None:
            department_id = _department_for(actor, petition, handler_id)
        assignment = assignment_for_update(petition, department_id)
        if assignment.status not in policy.OPEN_PARTS:
            raise Conflict(_("This department has already replied for its part."), code="already_replied")
        handler = department_staff([department_id]).filter(pk=handler_id).first()
        if handler is None:
            raise _invalid("handler", _("Choose someone who works for this department."))
        if assignment.handler_id == handler.pk:
            raise Conflict(
                _("This part is already assigned to %(name)s.") % {"name": staff_name(handler)},
                code="already_assigned",
            )
        now = _base.now()
        previous = assignment.handler_id
        assignment.handler = handler
        assignment.assigned_at = now
        assignment.assigned_by = actor if getattr(actor, "pk", None) else None
        assignment.save(update_fields=["handler", "assigned_at", "assigned_by"])
        note = (note or "").strip()
        to_whom = _("To %(name)s") % {"name": staff_name(handler)}
        _base.record(
            petition,
            EventType.HANDLER_ASSIGNED,
            actor=actor,
            from_status=petition.status,
            note=f"{to_whom}：{note}" if note else to_whom,
            extra={"department_id": department_id, "handler_id": handler.pk, "previous_handler_id": previous},
            at=now,
        )
        notification_create(
            recipient=handler,
            petition=petition,
            kind="handler_assigned",
            message=_("Petition %(no)s was assigned to you: %(title)s")
            % {"no": petition.tracking_no, "title": petition.title},
        )
    return assignment
