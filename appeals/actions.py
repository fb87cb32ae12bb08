"""Staff actions on a petition by name: the one table from an action to its service call.

The API (`appeals.apis`) and the staff pages (`appeals.views`) parse their own input — serializers
and forms — into the canonical fields below, then call `action_perform`. Nothing else maps an
action to a service, so the two front ends cannot drift apart.

Canonical fields: note, reply, reason, handling_mode, area, lead_department,
assisting_departments, department, new_deadline, request (an extension request id; default: the
pending one), grant, rating, result, into (the master's tracking number). Departments may be given
as objects or ids; `department` defaults to the caller's only department.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _

from appeals.models import ExtensionStatus, Petition, Status
from appeals.selectors import petition_get_for_user
from appeals.services import (
    assignment_reply,
    assignment_report_in,
    petition_accept,
    petition_ask_extension,
    petition_callback,
    petition_close,
    petition_decide_extension,
    petition_escalate,
    petition_handle,
    petition_merge,
    petition_note_progress,
    petition_place,
    petition_rate,
    petition_reopen,
    petition_reply,
    petition_return,
    petition_supervise,
    petition_urge,
    petition_whistle,
)
from governance.errors import DomainError, Forbidden, NotFound
from governance.scoping import scope_for

Runner = Callable[[Petition, Any, Mapping[str, Any]], object]


def _pk(value: Any) -> int | None:
    return getattr(value, "pk", value)


def _department_id(user: Any, department: Any) -> int:
    """The department named, or the caller's only department."""
    if department:
        return _pk(department)
    ids = scope_for(user).department_ids
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise Forbidden(_("Only staff of a department may do this."))
    message = _("You work for several departments: say which one.")
    raise DomainError(message, code="validation_error", extra={"fields": {"department": message}})


def _return(petition: Petition, user: Any, data: Mapping[str, Any]) -> object:
    department = data.get("department")
    if department is None and petition.status == Status.DISPATCHED:
        department = _department_id(user, None)
    return petition_return(petition_id=petition.pk, actor=user, reason=data["reason"], department_id=_pk(department))


def _decide_extension(petition: Petition, user: Any, data: Mapping[str, Any]) -> object:
    requests = petition.extensions.all()
    if data.get("request"):
        found = requests.filter(pk=data["request"]).first()
    else:
        found = requests.filter(status=ExtensionStatus.PENDING).first()
    if found is None:
        raise NotFound(_("No extension request is waiting for a decision."))
    return petition_decide_extension(request_id=found.pk, actor=user, grant=data["grant"], note=data.get("note", ""))


def _merge(petition: Petition, user: Any, data: Mapping[str, Any]) -> object:
    try:
        master = petition_get_for_user(user, tracking_no=data["into"].strip())
    except Http404:
        message = _("No petition with this tracking number in your area.")
        raise NotFound(message, extra={"fields": {"into": message}}) from None
    return petition_merge(petition_id=petition.pk, into_id=master.pk, actor=user, note=data.get("note", ""))


ACTIONS: dict[str, Runner] = {
    "accept": lambda p, u, d: petition_accept(petition_id=p.pk, actor=u),
    "handle": lambda p, u, d: petition_handle(
        petition_id=p.pk, actor=u, note=d.get("note", ""), handling_mode=d.get("handling_mode", "")
    ),
    "note_progress": lambda p, u, d: petition_note_progress(petition_id=p.pk, actor=u, note=d["note"]),
    "reply": lambda p, u, d: petition_reply(petition_id=p.pk, actor=u, reply=d["reply"]),
    "escalate": lambda p, u, d: petition_escalate(petition_id=p.pk, actor=u, note=d["note"]),
    "return": _return,
    "place": lambda p, u, d: petition_place(petition_id=p.pk, actor=u, area=d["area"], note=d.get("note", "")),
    "whistle": lambda p, u, d: petition_whistle(
        petition_id=p.pk,
        actor=u,
        lead_department_id=_pk(d["lead_department"]),
        assisting_department_ids=[_pk(dept) for dept in d.get("assisting_departments") or ()],
        note=d.get("note", ""),
    ),
    "report_in": lambda p, u, d: assignment_report_in(
        petition_id=p.pk, department_id=_department_id(u, d.get("department")), actor=u
    ),
    "department_reply": lambda p, u, d: assignment_reply(
        petition_id=p.pk, department_id=_department_id(u, d.get("department")), actor=u, reply=d["reply"]
    ),
    "ask_extension": lambda p, u, d: petition_ask_extension(
        petition_id=p.pk, actor=u, reason=d["reason"], new_deadline=d["new_deadline"]
    ),
    "decide_extension": _decide_extension,
    "urge": lambda p, u, d: petition_urge(petition_id=p.pk, actor=u, note=d.get("note", "")),
    "supervise": lambda p, u, d: petition_supervise(petition_id=p.pk, actor=u, note=d.get("note", "")),
    "rate": lambda p, u, d: petition_rate(petition_id=p.pk, actor=u, rating=d["rating"], note=d.get("note", "")),
    "reopen": lambda p, u, d: petition_reopen(petition_id=p.pk, actor=u, reason=d["reason"]),
    "callback": lambda p, u, d: petition_callback(
        petition_id=p.pk, actor=u, result=d["result"], note=d.get("note", "")
    ),
    "close": lambda p, u, d: petition_close(petition_id=p.pk, actor=u, note=d.get("note", "")),
    "merge": _merge,
}


def action_perform(name: str, *, petition: Petition, actor: Any, data: Mapping[str, Any]) -> object:
    """Run the staff action `name` on the petition with canonical input `data`."""
    return ACTIONS[name](petition, actor, data)
