"""The one registry of petition actions: name → service, page form, API serializer, label, audience.

The staff page (`appeals.views`), the API (`appeals.apis`), the resident pages and the tests all
iterate `REGISTRY`; `appeals.policy` decides who is offered which entry. A front end parses its
input with the entry's form or serializer into the canonical fields below, then calls
`action_perform`, which asks the policy and runs the service. Nothing else maps an action to a
service, so no front end can half-wire one. (Open311 performs no action on a petition: it only
files new ones through `petition_submit`.)

Canonical fields: note, reply, reason, handling_mode, area, lead_department,
assisting_departments, department, new_deadline, request (an extension request id; default: the
pending one), grant, rating, result, into (the master's tracking number), contact_phone (a
resident following by phone), handler (分派: a user, an id or a user name). Departments may be given as objects or ids; `department` defaults to
the caller's only department.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import serializers as drf

from appeals import forms as f
from appeals import policy
from appeals import serializers as s
from appeals.lifecycle import TRANSITIONS
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
    petition_transfer,
    petition_urge,
    petition_whistle,
)
from appeals.services.assigning import assignment_assign_handler
from governance.errors import DomainError, Forbidden, NotFound
from governance.scoping import scope_for

Runner = Callable[[Petition, Any, Mapping[str, Any]], object]

STAFF = "staff"
RESIDENT = "resident"


@dataclass(frozen=True)
class Action:
    name: str
    run: Runner
    form: type[f.PetitionActionForm]
    serializer: type[drf.Serializer]
    summary: str  # the API operation's summary (OpenAPI)
    # Who the action is for: STAFF, RESIDENT or both. The policy decides who exactly; the resident
    # pages show only resident actions.
    audience: frozenset[str] = frozenset({STAFF})

    @property
    def label(self) -> Any:
        return TRANSITIONS[self.name].label

    @property
    def slug(self) -> str:
        return policy.action_slug(self.name)


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


def _assign_handler(petition: Petition, user: Any, data: Mapping[str, Any]) -> object:
    handler = data.get("handler")
    if isinstance(handler, str) and not handler.isdigit():
        from django.contrib.auth import get_user_model

        # An unknown name fails like a colleague of another department: the service's own refusal.
        handler = get_user_model().objects.filter(username=handler).values_list("pk", flat=True).first() or -1
    return assignment_assign_handler(
        petition_id=petition.pk,
        actor=user,
        handler_id=int(_pk(handler) or 0),
        department_id=_pk(data.get("department")),
        note=data.get("note", ""),
    )


def _entry(name: str, run: Runner, form: type, serializer: type, summary: str, *audience: str) -> Action:
    return Action(name, run, form, serializer, summary, frozenset(audience or {STAFF}))


REGISTRY: dict[str, Action] = {
    a.name: a
    for a in [
        _entry(
            "accept",
            lambda p, u, d: petition_accept(petition_id=p.pk, actor=u),
            f.EmptyActionForm,
            s.NoInputSerializer,
            "Accept (签收)",
        ),
        _entry(
            "handle",
            lambda p, u, d: petition_handle(
                petition_id=p.pk, actor=u, note=d.get("note", ""), handling_mode=d.get("handling_mode", "")
            ),
            f.HandleForm,
            s.HandleSerializer,
            "Start handling",
        ),
        _entry(
            "note_progress",
            lambda p, u, d: petition_note_progress(petition_id=p.pk, actor=u, note=d["note"]),
            f.RequiredNoteActionForm,
            s.RequiredNoteSerializer,
            "Note progress",
        ),
        _entry(
            "reply",
            lambda p, u, d: petition_reply(petition_id=p.pk, actor=u, reply=d["reply"]),
            f.ReplyForm,
            s.ReplySerializer,
            "Reply to the resident and resolve",
        ),
        _entry(
            "escalate",
            lambda p, u, d: petition_escalate(petition_id=p.pk, actor=u, note=d["note"]),
            f.EscalateForm,
            s.RequiredNoteSerializer,
            "Escalate one tier up",
        ),
        _entry("return", _return, f.ReturnForm, s.ReturnSerializer, "Return a wrongly routed petition (退单)"),
        _entry(
            "place",
            lambda p, u, d: petition_place(petition_id=p.pk, actor=u, area=d["area"], note=d.get("note", "")),
            f.PlaceForm,
            s.PlaceSerializer,
            "Place from the intake queue or re-route a returned petition",
        ),
        _entry(
            "transfer",
            lambda p, u, d: petition_transfer(petition_id=p.pk, actor=u, area=d["area"], note=d.get("note", "")),
            f.TransferForm,
            s.PlaceSerializer,
            "Transfer a case in hand to another street, community or grid (一键转办)",
        ),
        _entry(
            "whistle",
            lambda p, u, d: petition_whistle(
                petition_id=p.pk,
                actor=u,
                lead_department_id=_pk(d["lead_department"]),
                assisting_department_ids=[_pk(dept) for dept in d.get("assisting_departments") or ()],
                note=d.get("note", ""),
            ),
            f.WhistleForm,
            s.WhistleSerializer,
            "Dispatch to departments (吹哨)",
        ),
        _entry(
            "report_in",
            lambda p, u, d: assignment_report_in(
                petition_id=p.pk, department_id=_department_id(u, d.get("department")), actor=u
            ),
            f.DepartmentActionForm,
            s.DepartmentSerializer,
            "A department reports in (报到)",
        ),
        _entry(
            "department_reply",
            lambda p, u, d: assignment_reply(
                petition_id=p.pk, department_id=_department_id(u, d.get("department")), actor=u, reply=d["reply"]
            ),
            f.DepartmentReplyForm,
            s.DepartmentReplySerializer,
            "A department replies for its part",
        ),
        _entry(
            "assign_handler",
            _assign_handler,
            f.AssignHandlerForm,
            s.AssignHandlerSerializer,
            "Assign the department's part to a handler (分派)",
        ),
        _entry(
            "ask_extension",
            lambda p, u, d: petition_ask_extension(
                petition_id=p.pk, actor=u, reason=d["reason"], new_deadline=d["new_deadline"]
            ),
            f.AskExtensionForm,
            s.AskExtensionSerializer,
            "Ask for an extension (延期)",
        ),
        _entry(
            "decide_extension",
            _decide_extension,
            f.DecideExtensionForm,
            s.DecideExtensionSerializer,
            "Grant or refuse an extension",
        ),
        _entry(
            "urge",
            lambda p, u, d: petition_urge(petition_id=p.pk, actor=u, note=d.get("note", "")),
            f.NoteActionForm,
            s.NoteSerializer,
            "Urge (催办)",
        ),
        _entry(
            "supervise",
            lambda p, u, d: petition_supervise(petition_id=p.pk, actor=u, note=d.get("note", "")),
            f.NoteActionForm,
            s.NoteSerializer,
            "Supervise (督办)",
        ),
        _entry(
            "rate",
            lambda p, u, d: petition_rate(
                petition_id=p.pk,
                actor=u,
                rating=d["rating"],
                note=d.get("note", ""),
                contact_phone=d.get("contact_phone"),
            ),
            f.RateActionForm,
            s.RateSerializer,
            "Rate the outcome (the resident who filed it)",
            RESIDENT,
        ),
        _entry(
            "reopen",
            lambda p, u, d: petition_reopen(
                petition_id=p.pk, actor=u, reason=d["reason"], contact_phone=d.get("contact_phone")
            ),
            f.ReopenActionForm,
            s.ReasonSerializer,
            "Reopen an unsatisfactory outcome",
            RESIDENT,
            STAFF,
        ),
        _entry(
            "callback",
            lambda p, u, d: petition_callback(petition_id=p.pk, actor=u, result=d["result"], note=d.get("note", "")),
            f.CallbackForm,
            s.CallbackSerializer,
            "Record a call-back (回访)",
        ),
        _entry(
            "close",
            lambda p, u, d: petition_close(petition_id=p.pk, actor=u, note=d.get("note", "")),
            f.NoteActionForm,
            s.NoteSerializer,
            "Close",
        ),
        _entry("merge", _merge, f.MergeForm, s.MergeSerializer, "Merge into another petition (并单)"),
    ]
}
BY_SLUG: dict[str, Action] = {action.slug: action for action in REGISTRY.values()}


def form_data(cleaned: Mapping[str, Any]) -> dict[str, Any]:
    """A page form's cleaned data with the canonical field names."""
    data = dict(cleaned)
    if "lead" in data:
        data["lead_department"] = data.pop("lead")
        data["assisting_departments"] = data.pop("assisting", [])
    if "decision" in data:
        data["grant"] = data.pop("decision") == "grant"
    return data


def action_perform(name: str, *, petition: Petition, actor: Any, data: Mapping[str, Any]) -> object:
    """Ask the policy, then run the action `name` on the petition with canonical input `data`.

    Refusals are the policy's (`policy.require`); the service asks again under its row lock. A
    signed-out caller is an AnonymousUser here, never None (None is the system).
    """
    actor = AnonymousUser() if actor is None else actor
    context: dict[str, Any] = {"contact_phone": data.get("contact_phone")}
    if data.get("department"):
        context["department_id"] = _pk(data["department"])
    policy.require(actor, name, petition, **context)
    return REGISTRY[name].run(petition, actor, data)
