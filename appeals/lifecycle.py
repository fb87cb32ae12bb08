"""The petition lifecycle as data: which action moves which status where.

Every transition service checks its move against `TRANSITIONS` before it writes; nothing else
writes `Petition.status`. `None` as a target means the action keeps the status (urge, extension…).
docs/petitions.md draws this table as a diagram.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appeals.models import Status
from governance.errors import DomainError


@dataclass(frozen=True)
class Move:
    sources: frozenset[str]
    target: str | None
    label: object  # lazy translated name of the action


def _move(sources: set[str], target: str | None, label: object) -> Move:
    return Move(frozenset(sources), target, label)


HANDLING = {Status.ACCEPTED, Status.PROCESSING}
IN_HAND = {Status.ASSIGNED, *HANDLING}
ACTIVE = {Status.INTAKE, Status.ASSIGNED, Status.ACCEPTED, Status.PROCESSING, Status.DISPATCHED, Status.RETURNED}

TRANSITIONS: dict[str, Move] = {
    "route": _move({Status.SUBMITTED}, Status.ASSIGNED, gettext_lazy("route")),
    "route_to_intake": _move({Status.SUBMITTED}, Status.INTAKE, gettext_lazy("send to the intake queue")),
    "place": _move({Status.INTAKE, Status.RETURNED}, Status.ASSIGNED, gettext_lazy("place")),
    "accept": _move({Status.ASSIGNED}, Status.ACCEPTED, gettext_lazy("accept")),
    "handle": _move({Status.ACCEPTED}, Status.PROCESSING, gettext_lazy("start handling")),
    "note_progress": _move(HANDLING | {Status.DISPATCHED}, None, gettext_lazy("note progress")),
    "reply": _move(HANDLING, Status.RESOLVED, gettext_lazy("reply and resolve")),
    "escalate": _move(IN_HAND, Status.ASSIGNED, gettext_lazy("escalate")),
    "auto_escalate": _move(IN_HAND | {Status.DISPATCHED}, None, gettext_lazy("escalate on deadline")),
    "remind": _move(IN_HAND | {Status.DISPATCHED}, None, gettext_lazy("remind")),
    "whistle": _move(IN_HAND, Status.DISPATCHED, gettext_lazy("dispatch to departments")),
    "report_in": _move({Status.DISPATCHED}, None, gettext_lazy("report in")),
    "department_reply": _move({Status.DISPATCHED}, None, gettext_lazy("reply for a department")),
    "lead_reply": _move({Status.DISPATCHED}, Status.RESOLVED, gettext_lazy("lead department's reply")),
    "return": _move({Status.ASSIGNED, Status.ACCEPTED, Status.DISPATCHED}, Status.RETURNED, gettext_lazy("return")),
    "ask_extension": _move(IN_HAND | {Status.DISPATCHED}, None, gettext_lazy("ask for an extension")),
    "decide_extension": _move(IN_HAND | {Status.DISPATCHED}, None, gettext_lazy("decide on an extension")),
    "urge": _move(ACTIVE, None, gettext_lazy("urge")),
    "supervise": _move(ACTIVE, None, gettext_lazy("supervise")),
    "rate": _move({Status.RESOLVED}, None, gettext_lazy("rate")),
    "reopen": _move({Status.RESOLVED}, Status.ASSIGNED, gettext_lazy("reopen")),
    "callback": _move({Status.RESOLVED}, None, gettext_lazy("record a call-back")),
    "close": _move({Status.RESOLVED}, Status.CLOSED, gettext_lazy("close")),
    "merge": _move(ACTIVE | {Status.SUBMITTED}, Status.MERGED, gettext_lazy("merge into another petition")),
}


# Moves only the system makes (routing, deadline sweeps, the lead department's resolving reply): no
# person is offered them, and a refusal never lists them as allowed.
SYSTEM_ACTIONS = frozenset({"route", "route_to_intake", "auto_escalate", "remind", "lead_reply"})


class InvalidTransition(DomainError):
    code = "invalid_transition"
    http_status = 409


def allowed_actions(status: str, *, system: bool = False) -> list[str]:
    """The moves from `status` a person may ask for (`system=True`: the system's moves too)."""
    return [
        action
        for action, move in TRANSITIONS.items()
        if status in move.sources and (system or action not in SYSTEM_ACTIONS)
    ]


def check_move(status: str, action: str) -> Move:
    """The move for `action` from `status`, or an error naming the state and what is allowed."""
    move = TRANSITIONS[action]
    if status in move.sources:
        return move
    allowed = allowed_actions(status)
    raise InvalidTransition(
        _("Cannot %(action)s a petition that is “%(status)s”. Allowed now: %(allowed)s.")
        % {
            "action": move.label,
            "status": Status(status).label,
            "allowed": "、".join(str(TRANSITIONS[a].label) for a in allowed) or _("nothing"),
        },
        extra={"status": status, "action": action, "allowed": allowed},
    )
