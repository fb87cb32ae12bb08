"""The petition lifecycle as data: which move takes which status where, and which event it writes.

Every status write is a move of `TRANSITIONS` with its real target: the services check the move
before they write and take the new status from it; nothing else writes `Petition.status`. A target
of `None` means the move keeps the status (urge, extension, report in…). One action a person takes
may end in different moves (a rating that closes is `rate_close`, one that does not is `rate`);
those variants and the moves only the system makes are not offered as actions.

The same table generates the check constraint on `PetitionEvent` (`event_status_condition`): every
event row names a legal (type, from, to) of some move, whoever writes it (services, the sweeps, the
demo's bulk inserts). docs/petitions.md draws the table as a diagram (`mermaid_diagram`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import F, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appeals.models import EventType, Status
from governance.errors import DomainError


@dataclass(frozen=True)
class Move:
    sources: frozenset[str]
    target: str | None
    label: object  # lazy translated name of the action
    # The event types this move writes (their from/to statuses are the move's).
    events: tuple[str, ...] = ()
    # Taken only by the system (sweeps, routing): never offered as an action.
    system: bool = False
    # The action a person asked for when the move is one of its outcomes (rate → rate_close).
    variant_of: str | None = None

    def target_from(self, status: str) -> str:
        """The status after the move from `status` (`None` keeps it)."""
        return status if self.target is None else self.target


def _move(
    sources: set[str],
    target: str | None,
    label: object,
    *events: str,
    system: bool = False,
    variant_of: str | None = None,
) -> Move:
    return Move(frozenset(sources), target, label, tuple(events), system, variant_of)


HANDLING = {Status.ACCEPTED, Status.PROCESSING}
IN_HAND = {Status.ASSIGNED, *HANDLING}
TIMED = IN_HAND | {Status.DISPATCHED}
ACTIVE = {Status.INTAKE, Status.ASSIGNED, Status.ACCEPTED, Status.PROCESSING, Status.DISPATCHED, Status.RETURNED}
OPEN = ACTIVE | {Status.SUBMITTED}
E = EventType

TRANSITIONS: dict[str, Move] = {
    "route": _move({Status.SUBMITTED}, Status.ASSIGNED, gettext_lazy("route"), E.ROUTED, system=True),
    "route_to_intake": _move(
        {Status.SUBMITTED}, Status.INTAKE, gettext_lazy("send to the intake queue"), E.ROUTED, system=True
    ),
    "place": _move({Status.INTAKE, Status.RETURNED}, Status.ASSIGNED, gettext_lazy("place"), E.PLACED, E.REROUTED),
    # 一键转办: a command centre (or any tier above) hands a case in hand to another unit.
    "transfer": _move(IN_HAND, Status.ASSIGNED, gettext_lazy("transfer"), E.REROUTED),
    "accept": _move({Status.ASSIGNED}, Status.ACCEPTED, gettext_lazy("accept"), E.ACCEPTED),
    "handle": _move({Status.ACCEPTED}, Status.PROCESSING, gettext_lazy("start handling"), E.HANDLING),
    "note_progress": _move(HANDLING | {Status.DISPATCHED}, None, gettext_lazy("note progress"), E.PROGRESS),
    "reply": _move(HANDLING, Status.RESOLVED, gettext_lazy("reply and resolve"), E.RESOLVED),
    "escalate": _move(IN_HAND, Status.ASSIGNED, gettext_lazy("escalate"), E.ESCALATED),
    # The sweeper: a case in hand goes to the tier above, which must accept it.
    "auto_escalate": _move(
        IN_HAND, Status.ASSIGNED, gettext_lazy("escalate on deadline"), E.AUTO_ESCALATED, system=True
    ),
    # The sweeper, where nobody takes the case over: a dispatched case stays with its departments
    # (the tier above supervises it), a case at the district stays there, overdue and supervised.
    "auto_supervise": _move(TIMED, None, gettext_lazy("supervise on deadline"), E.AUTO_ESCALATED, system=True),
    "remind": _move(TIMED, None, gettext_lazy("remind"), E.REMINDED, system=True),
    "whistle": _move(IN_HAND, Status.DISPATCHED, gettext_lazy("dispatch to departments"), E.WHISTLED),
    "report_in": _move({Status.DISPATCHED}, None, gettext_lazy("report in"), E.REPORTED_IN),
    "department_reply": _move({Status.DISPATCHED}, None, gettext_lazy("reply for a department"), E.DEPARTMENT_REPLIED),
    # 分派: a department's leader gives its part to one of its handlers (again to reassign).
    "assign_handler": _move({Status.DISPATCHED}, None, gettext_lazy("assign to a handler"), E.HANDLER_ASSIGNED),
    "lead_reply": _move(
        {Status.DISPATCHED},
        Status.RESOLVED,
        gettext_lazy("lead department's reply"),
        E.RESOLVED,
        variant_of="department_reply",
    ),
    "return": _move(
        {Status.ASSIGNED, Status.ACCEPTED, Status.DISPATCHED}, Status.RETURNED, gettext_lazy("return"), E.RETURNED
    ),
    "ask_extension": _move(TIMED, None, gettext_lazy("ask for an extension"), E.EXTENSION_ASKED),
    "decide_extension": _move(
        TIMED, None, gettext_lazy("decide on an extension"), E.EXTENSION_GRANTED, E.EXTENSION_REFUSED
    ),
    "urge": _move(ACTIVE, None, gettext_lazy("urge"), E.URGED),
    "supervise": _move(ACTIVE, None, gettext_lazy("supervise"), E.SUPERVISED),
    # 不满意: the petition stays resolved, so the resident may reopen it.
    "rate": _move({Status.RESOLVED}, None, gettext_lazy("rate"), E.RATED),
    # 满意 / 基本满意 close it.
    "rate_close": _move({Status.RESOLVED}, Status.CLOSED, gettext_lazy("rate"), E.RATED, variant_of="rate"),
    "reopen": _move({Status.RESOLVED}, Status.ASSIGNED, gettext_lazy("reopen"), E.REOPENED),
    "callback": _move({Status.RESOLVED}, None, gettext_lazy("record a call-back"), E.CALLBACK),
    # A call-back whose answer is the first rating 满意 / 基本满意 closes the petition.
    "callback_close": _move(
        {Status.RESOLVED}, Status.CLOSED, gettext_lazy("record a call-back"), E.CALLBACK, variant_of="callback"
    ),
    "close": _move({Status.RESOLVED}, Status.CLOSED, gettext_lazy("close"), E.CLOSED),
    "merge": _move(OPEN, Status.MERGED, gettext_lazy("merge into another petition"), E.MERGED),
    # The master of a merge records what it absorbed, keeping its status.
    "absorb": _move(OPEN, None, gettext_lazy("absorb a duplicate"), E.ABSORBED, system=True),
    "link_repeat": _move(OPEN, None, gettext_lazy("link as a repeat"), E.REPEAT_LINKED, system=True),
}

# The one event that starts a life rather than moving it: no status before, submitted after.
SUBMISSION = (EventType.SUBMITTED, "", Status.SUBMITTED)
# Events that record something beside the life and keep whatever status it has: an internal note
# (appeals.services.notes; who may write one is `appeals.policy.note_decide`, not a move).
ANNOTATIONS = (EventType.NOTE_ADDED,)


# Moves no person asks for by name: the system's (routing, deadline sweeps, merges' bookkeeping) and
# the outcome variants of an action (the lead department's resolving reply is `department_reply`'s).
SYSTEM_ACTIONS = frozenset(name for name, move in TRANSITIONS.items() if move.system or move.variant_of)


class InvalidTransition(DomainError):
    code = "invalid_transition"
    http_status = 409


def allowed_actions(status: str, *, system: bool = False) -> list[str]:
    """The actions a person may ask for in `status` (outcome variants left out; the system's moves
    only with `system=True`)."""
    return [
        action
        for action, move in TRANSITIONS.items()
        if status in move.sources and move.variant_of is None and (system or not move.system)
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


def event_status_pairs() -> dict[str, set[tuple[str, str]]]:
    """Every legal (from status, to status) of each event type, from the table."""
    pairs: dict[str, set[tuple[str, str]]] = defaultdict(set)
    event, before, after = SUBMISSION
    pairs[event].add((before, after))
    for event in ANNOTATIONS:
        pairs[event].update((status, status) for status in Status.values)
    for move in TRANSITIONS.values():
        for event in move.events:
            pairs[event].update((source, move.target_from(source)) for source in move.sources)
    return dict(pairs)


def event_status_condition() -> Q:
    """The check constraint of `PetitionEvent`: its (type, from, to) is one of `event_status_pairs`.

    A move that keeps the status is written `from_status = to_status`; the others are grouped by
    (type, to status). Sorted, so the generated migration is stable and changes only with the table.
    """
    keeps: dict[str, set[str]] = defaultdict(set)
    moves: dict[tuple[str, str], set[str]] = defaultdict(set)
    for event, pairs in event_status_pairs().items():
        for before, after in pairs:
            if before == after:
                keeps[str(event)].add(str(after))
            else:
                moves[(str(event), str(after))].add(str(before))
    condition = Q()
    for event, states in sorted(keeps.items()):
        condition |= Q(type=event, to_status__in=sorted(states), from_status=F("to_status"))
    for (event, after), befores in sorted(moves.items()):
        condition |= Q(type=event, to_status=after, from_status__in=sorted(befores))
    return condition


def mermaid_diagram() -> str:
    """The state diagram of the moves that change the status, as mermaid text (docs/petitions.md)."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for action, move in TRANSITIONS.items():
        if move.target is None:
            continue
        for source in sorted(move.sources):
            edges[(source, move.target)].append(action)
    lines = ["stateDiagram-v2", "    [*] --> submitted: submit"]
    for (source, target), actions in sorted(edges.items(), key=lambda item: (_ORDER[item[0][0]], _ORDER[item[0][1]])):
        lines.append(f"    {source} --> {target}: {', '.join(actions)}")
    lines += ["    closed --> [*]", "    merged --> [*]"]
    return "\n".join(lines) + "\n"


_ORDER = {status: index for index, status in enumerate(Status.values)}
