"""The one access policy of petitions: may this user do this action on this petition now, and why not.

Everybody asks it: the services enforce it (`require`), the staff page and the API offer exactly
what it allows (`actions_for`), the 待办 lists are its filter (`todo_filter`), and masking asks it
who handles the petition (`contact_access`). docs/permissions.md describes the same rules.

An action is allowed when three things hold, checked in this order (the first failure is the reason):

1. the lifecycle allows the move from the petition's status (`appeals.lifecycle.TRANSITIONS`);
2. the user holds the part the action needs — the handling unit, a tier above, a department on the
   case, the desk staff of the area, or the resident who filed it;
3. the petition's details allow it now (a department that already reported in, a pending
   extension, the rating window, the reopening limit …).

`user=None` is the system (sweeps, imports): it may take every staff action the lifecycle allows,
never a resident's. Web callers always pass `request.user` (an AnonymousUser when signed out).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.lifecycle import ACTIVE, IN_HAND, InvalidTransition, check_move
from appeals.models import (
    TIMED_STATUSES,
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    ExtensionRequest,
    ExtensionStatus,
    Petition,
    Rating,
    Status,
    Tier,
)
from governance.errors import Conflict, DomainError, Forbidden, NotFound
from governance.models import Role
from governance.scoping import Scope, scope_for
from grids.models import AreaLevel

# The highest tier each role acts at (urging and approving need a tier above the petition's).
ROLE_TIER = {
    Role.GRID_WORKER: Tier.GRID,
    Role.MICROGRID_HEAD: Tier.GRID,
    Role.COMMUNITY_WORKER: Tier.COMMUNITY,
    Role.COMMUNITY_SECRETARY: Tier.COMMUNITY,
    Role.STREET_COMMAND: Tier.STREET,
    Role.DISTRICT_CENTRE: Tier.DISTRICT,
}
OPEN_PARTS = frozenset({AssignmentStatus.DISPATCHED, AssignmentStatus.REPORTED_IN})
# What the handling unit itself moves on: place, accept, handle, reply (its 待办).
HANDLER_QUEUE = (Status.INTAKE, Status.ASSIGNED, Status.ACCEPTED, Status.PROCESSING, Status.RETURNED)
MICROGRID_QUEUE = (Status.ASSIGNED, Status.ACCEPTED, Status.PROCESSING)

OWN = "own"
HANDLER = "handler"
MASKED = "masked"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    code: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Decision(True)


def _no(reason: str, code: str = "forbidden") -> Decision:
    return Decision(False, str(reason), code)


@dataclass(frozen=True)
class Part:
    """One department's part of a dispatched petition (a non-cancelled `Assignment`)."""

    department_id: int
    role: str
    status: str


@dataclass(frozen=True)
class Facts:
    """What the rules read beyond the petition row; `facts_for` loads it once per petition."""

    parts: tuple[Part, ...] = ()
    pending_extension: bool = False
    pending_extension_by: int | None = None


def facts_for(petition: Petition) -> Facts:
    """The department parts and the pending extension: from prefetched rows, else one query each.

    Only statuses where a rule reads them cost a query.
    """
    parts: tuple[Part, ...] = ()
    if petition.status == Status.DISPATCHED:
        parts = tuple(
            Part(a.department_id, a.role, a.status)
            for a in petition.assignments.all()
            if a.status != AssignmentStatus.CANCELLED
        )
    pending = None
    if petition.status in IN_HAND or petition.status == Status.DISPATCHED:
        pending = next((x for x in petition.extensions.all() if x.status == ExtensionStatus.PENDING), None)
    return Facts(
        parts=parts,
        pending_extension=pending is not None,
        pending_extension_by=pending.requested_by_id if pending is not None else None,
    )


def actor_tier(user: Any) -> int:
    """The highest tier any of the user's posts acts at (administrators act at every tier)."""
    scope = scope_for(user)
    if scope.sees_all:
        return Tier.DISTRICT + 1
    return max((ROLE_TIER.get(role, 0) for role in scope.roles), default=0)


def _desk_paths(scope: Scope) -> list[str]:
    """The areas of the user's grid, community, street and district posts (not micro-grid heads)."""
    return [path for path, level, _id in scope.areas if level != AreaLevel.MICROGRID]


def _desk_area_ids(scope: Scope) -> list[int]:
    return [area_id for _path, level, area_id in scope.areas if level != AreaLevel.MICROGRID]


def _microgrid_ids(scope: Scope) -> list[int]:
    return [area_id for _path, level, area_id in scope.areas if level == AreaLevel.MICROGRID]


class _Ask:
    """One question to the policy: the user, their scope, the petition and its facts."""

    def __init__(self, user: Any, petition: Petition, facts: Facts, context: dict[str, Any]):
        self.user = user
        self.system = user is None
        self.scope = scope_for(user)
        self.petition = petition
        self.facts = facts
        self.context = context

    # --- Parts a user can hold ----------------------------------------------------------------

    def handles_by_area(self) -> bool:
        """Staff of the handling area's subtree (a grid worker of the grid, the community above it …)."""
        if self.system or self.scope.sees_all:
            return True
        if not self.petition.handler_area_id:
            return False
        path = self.petition.handler_area.path
        return any(path.startswith(prefix) for prefix in _desk_paths(self.scope))

    def handles_as_microgrid(self) -> bool:
        """A micro-grid head acts for the grid on the petitions located in their micro-grid."""
        p = self.petition
        return (
            p.tier == Tier.GRID
            and p.microgrid_id is not None
            and p.handler_area_id == p.grid_id
            and p.microgrid_id in _microgrid_ids(self.scope)
        )

    def sees(self) -> bool:
        """The petition lies in the user's areas (its location or its handling area)."""
        if self.system or self.scope.sees_all:
            return True
        p = self.petition
        if p.area_path and self.scope.sees_path(p.area_path):
            return True
        return bool(p.handler_area_id and self.scope.sees_path(p.handler_area.path))

    def desk(self) -> Decision:
        """Grid, community, street or district staff of the petition's area (call-backs, closing, merging)."""
        if self.system or self.scope.sees_all:
            return ALLOWED
        paths = _desk_paths(self.scope)
        p = self.petition
        located = p.area_path and any(p.area_path.startswith(prefix) for prefix in paths)
        handled = p.handler_area_id and any(p.handler_area.path.startswith(prefix) for prefix in paths)
        if located or handled:
            return ALLOWED
        if self.scope.is_staff_member and self.sees():
            return _no(_("Only grid, community, street or district staff may do this."))
        return _no(_("This petition is outside your area."))

    def handler(self, *, microgrid: bool = True) -> Decision:
        if self.handles_by_area() or (microgrid and self.handles_as_microgrid()):
            return ALLOWED
        return _no(_("Only the handling unit may do this."))

    def upper(self) -> Decision:
        """A tier above the petition's tier; for a dispatched case also the unit that dispatched it."""
        if self.system or self.scope.sees_all:
            return ALLOWED
        if not self.sees():
            return _no(_("This petition is outside your area."))
        if actor_tier(self.user) > (self.petition.tier or 0):
            return ALLOWED
        if self.petition.status == Status.DISPATCHED and self.handles_by_area():
            return ALLOWED
        # A dispatched case escalated on its deadline is supervised by the tier it reached, which
        # owns its deadline now: that tier urges and supervises the departments too.
        if self.petition.status == Status.DISPATCHED and actor_tier(self.user) >= (self.petition.tier or 0) > 0:
            return ALLOWED
        return _no(_("Only a tier above the handling unit may do this."))

    def my_parts(self) -> list[Part]:
        wanted = self.context.get("department_id")
        mine = set(self.scope.department_ids) if self.scope.is_department_member else set()
        return [
            part
            for part in self.facts.parts
            if part.department_id in mine and (wanted is None or part.department_id == wanted)
        ]

    def department(self, *statuses: str) -> Decision:
        parts = self.my_parts()
        if any(part.status in statuses for part in parts):
            return ALLOWED
        if parts and AssignmentStatus.DISPATCHED not in statuses:
            return _no(_("Report in before replying."), "not_reported_in")
        return _no(_("Only staff of a department the petition is dispatched to may do this."))

    def resident(self) -> Decision:
        p = self.petition
        if p.submitter_id is not None and getattr(self.user, "pk", None) == p.submitter_id:
            return ALLOWED
        phone = self.context.get("contact_phone")
        if phone and p.contact_phone and phone == p.contact_phone:
            return ALLOWED
        return _no(_("Only the person who filed the petition may do this."))


# --- The rules, one per action -------------------------------------------------------------------


def _accept(ask: _Ask) -> Decision:
    return ask.handler()


def _note_progress(ask: _Ask) -> Decision:
    if ask.petition.status == Status.DISPATCHED:
        if ask.handles_by_area() or any(part.status in OPEN_PARTS for part in ask.my_parts()):
            return ALLOWED
        return _no(_("Only the departments on the case or the unit that dispatched it may do this."))
    return ask.handler()


def _escalate(ask: _Ask) -> Decision:
    decision = ask.handler()
    if decision and (ask.petition.tier or 0) >= Tier.DISTRICT:
        return _no(_("The petition is already at the district; there is no tier above."), "top_tier")
    return decision


def _return(ask: _Ask) -> Decision:
    if ask.petition.status == Status.DISPATCHED:
        if any(part.status in OPEN_PARTS for part in ask.my_parts()):
            return ALLOWED
        return _no(_("Only a department holding an open part of the petition may return it."))
    decision = ask.handler(microgrid=False)
    if decision and (ask.petition.tier or 0) >= Tier.DISTRICT:
        return _no(_("The district is the top tier: re-route the petition or dispatch it instead."), "top_tier")
    return decision


def _place(ask: _Ask) -> Decision:
    return ask.handler(microgrid=False)


def _transfer(ask: _Ask) -> Decision:
    """一键转办: a tier above the handling unit, or a street or district handling it itself."""
    if ask.upper():
        return ALLOWED
    if ask.handles_by_area() and actor_tier(ask.user) >= Tier.STREET:
        return ALLOWED
    return _no(_("Only a tier above the handling unit, or a street or district handling it, may transfer it."))


def _whistle(ask: _Ask) -> Decision:
    decision = ask.handler(microgrid=False)
    if not decision:
        return decision
    if (ask.petition.tier or 0) < Tier.STREET:
        return _no(
            _("Only the street or the district can dispatch to departments; escalate the petition first."),
            "tier_too_low",
        )
    if ask.system or ask.scope.sees_all or ask.scope.has_role(Role.STREET_COMMAND, Role.DISTRICT_CENTRE):
        return ALLOWED
    return _no(_("Only a street command centre or the district centre can dispatch."))


def _report_in(ask: _Ask) -> Decision:
    parts = ask.my_parts()
    if any(part.status == AssignmentStatus.DISPATCHED for part in parts):
        return ALLOWED
    if parts:
        return _no(_("This department has already reported in."), "already_reported")
    return _no(_("Only staff of a department the petition is dispatched to may do this."))


def _department_reply(ask: _Ask) -> Decision:
    parts = ask.my_parts()
    ready = [part for part in parts if part.status == AssignmentStatus.REPORTED_IN]
    if not ready:
        if any(part.status == AssignmentStatus.DISPATCHED for part in parts):
            return _no(_("Report in before replying."), "not_reported_in")
        if parts:
            return _no(_("This department has already replied."), "already_replied")
        return _no(_("Only staff of a department the petition is dispatched to may do this."))
    waiting = sum(
        1 for part in ask.facts.parts if part.role == AssignmentRole.ASSIST and part.status != AssignmentStatus.REPLIED
    )
    if all(part.role == AssignmentRole.LEAD for part in ready) and waiting:
        return _no(_("%(n)s assisting department(s) have not replied yet.") % {"n": waiting}, code="assistants_pending")
    return ALLOWED


def _assign_handler(ask: _Ask) -> Decision:
    """分派: the leader of a department holding a live part gives the part to one of its staff."""
    if ask.system:
        return ALLOWED
    wanted = ask.context.get("department_id")
    parts = [part for part in ask.facts.parts if wanted is None or part.department_id == wanted]
    led = [part for part in parts if part.department_id in ask.scope.led_department_ids]
    if any(part.status in OPEN_PARTS for part in led):
        return ALLOWED
    if led:
        return _no(_("This department has already replied for its part."), "already_replied")
    if ask.scope.is_department_member and any(part.department_id in ask.scope.department_ids for part in parts):
        return _no(_("Only the department's leader may assign its part to a handler."))
    return _no(_("Only the leader of a department the petition is dispatched to may do this."))


def _ask_extension(ask: _Ask) -> Decision:
    p = ask.petition
    if p.status == Status.DISPATCHED and p.handler_department_id:
        mine = ask.scope.department_ids if ask.scope.is_department_member else ()
        if not (ask.system or p.handler_department_id in mine):
            return _no(_("Only the lead department may ask for an extension."))
    else:
        decision = ask.handler()
        if not decision:
            return decision
    if p.deadline_at is None or p.deadline_at <= timezone.now():
        return _no(_("An extension must be asked before the deadline passes."), "deadline_passed")
    if ask.facts.pending_extension:
        return _no(_("An extension request is already waiting for a decision."), "extension_pending")
    return ALLOWED


def _decide_extension(ask: _Ask) -> Decision:
    decision = ask.upper()
    if not decision:
        return decision
    if not ask.facts.pending_extension:
        return _no(_("No extension request is waiting for a decision."), "not_found")
    if ask.facts.pending_extension_by is not None and ask.facts.pending_extension_by == getattr(ask.user, "pk", None):
        return _no(_("Someone else must decide on your own extension request."))
    return ALLOWED


def _urge(ask: _Ask) -> Decision:
    return ask.upper()


def _supervise(ask: _Ask) -> Decision:
    decision = ask.upper()
    if decision and ask.petition.supervised:
        return _no(_("This petition is already supervised."), "already_supervised")
    return decision


def _rate(ask: _Ask) -> Decision:
    decision = ask.resident()
    if decision and ask.petition.rating:
        return _no(_("This petition has already been rated."), "already_rated")
    return decision


def _reopen(ask: _Ask) -> Decision:
    decision = ask.resident()
    if not decision and not ask.system and ask.scope.is_staff_member:
        decision = ask.desk()  # staff reopen on the resident's behalf (a call-back heard "unsatisfied")
    if not decision:
        return decision
    p = ask.petition
    if p.rating and p.rating != Rating.UNSATISFIED:
        return _no(_("Only an unsatisfied petition can be reopened."), "not_unsatisfied")
    if p.reopen_count >= settings.PETITION_MAX_REOPENS:
        return _no(
            _("This petition has been reopened %(n)s times, the most allowed; a call-back will follow up.")
            % {"n": p.reopen_count},
            "reopen_limit",
        )
    return ALLOWED


def _callback(ask: _Ask) -> Decision:
    if ask.system:
        return _no(_("Only staff record call-backs."))
    return ask.desk()


def _desk(ask: _Ask) -> Decision:
    return ask.desk()


Rule = Callable[[_Ask], Decision]

# Every action a person can take, in the order pages list them. System-only moves of the lifecycle
# (routing, deadline escalation, reminders, the lead department's resolving reply) are not here.
RULES: dict[str, Rule] = {
    "accept": _accept,
    "handle": _accept,
    "note_progress": _note_progress,
    "reply": _accept,
    "escalate": _escalate,
    "return": _return,
    "place": _place,
    "transfer": _transfer,
    "whistle": _whistle,
    "report_in": _report_in,
    "department_reply": _department_reply,
    "assign_handler": _assign_handler,
    "ask_extension": _ask_extension,
    "decide_extension": _decide_extension,
    "urge": _urge,
    "supervise": _supervise,
    "rate": _rate,
    "reopen": _reopen,
    "callback": _callback,
    "close": _desk,
    "merge": _desk,
}
ACTIONS = tuple(RULES)


def decide(user: Any, action: str, petition: Petition, **context: Any) -> Decision:
    """May `user` do `action` on `petition` now, and if not, why.

    Context: `facts` (from `facts_for`, to share one load across several questions),
    `department_id` (the department acting), `contact_phone` (a resident following by phone).
    """
    rule = RULES.get(action)
    if rule is None:
        return _no(_("Unknown action."), "not_found")
    try:
        check_move(petition.status, action)
    except InvalidTransition as error:
        return _no(error.message, error.code)
    facts = context.pop("facts", None) or facts_for(petition)
    return rule(_Ask(user, petition, facts, context))


def require(user: Any, action: str, petition: Petition, **context: Any) -> None:
    """Raise the policy's refusal: 409 for a state that does not allow the move, 403 for the wrong
    person, 404 for what does not exist, and 409 with its own code for a detail of the petition's
    state (already reported in, extension pending …): the request was right, the moment is not."""
    decision = decide(user, action, petition, **context)
    if decision.allowed:
        return
    if decision.code == InvalidTransition.code:
        check_move(petition.status, action)  # raises the full 409 with the allowed moves
    if decision.code == Forbidden.code:
        raise Forbidden(decision.reason)
    if decision.code == NotFound.code:
        raise NotFound(decision.reason)
    if decision.code == "validation_error":
        raise DomainError(decision.reason, code=decision.code)
    raise Conflict(decision.reason, code=decision.code)


def require_in_scope(user: Any, petition: Petition) -> None:
    """The user sees the petition (a merge's master)."""
    if not _Ask(user, petition, Facts(), {}).sees():
        raise Forbidden(_("This petition is outside your area."))


def actions_for(user: Any, petition: Petition, **context: Any) -> list[str]:
    """The actions `user` may take on `petition` now, in `ACTIONS` order (the page and API list these)."""
    facts = context.pop("facts", None) or facts_for(petition)
    return [name for name in ACTIONS if decide(user, name, petition, facts=facts, **context).allowed]


def action_slug(name: str) -> str:
    """The action's URL segment in the API (`note_progress` → `note-progress`)."""
    return name.replace("_", "-")


# --- Internal notes ------------------------------------------------------------------------------


def note_decide(user: Any, petition: Petition) -> Decision:
    """May `user` write an internal note on `petition`: staff who can see it, in any status.

    Not a lifecycle move (a note changes nothing of the petition), so it is not in `RULES`: the
    petition page asks this and `appeals.services.notes.petition_note_add` enforces it.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return _no(_("Only staff write internal notes."))
    scope = scope_for(user)
    if not scope.is_staff_member:
        return _no(_("Only staff write internal notes."))
    if _Ask(user, petition, Facts(), {}).sees():
        return ALLOWED
    if (
        scope.is_department_member
        and scope.department_ids
        and Assignment.objects.filter(petition_id=petition.pk, department_id__in=scope.department_ids)
        .exclude(status=AssignmentStatus.CANCELLED)
        .exists()
    ):
        return ALLOWED
    return _no(_("This petition is outside your area."))


# --- 待办: what the user can act on now, as one indexed filter -----------------------------------


def todo_filter(user: Any, *, now: datetime | None = None, pending_ids: Sequence[int] | QuerySet | None = None) -> Q:
    """The petitions waiting for this user, as a condition on `Petition` (add the visibility scope).

    `now` (default: the clock) is the moment deadlines are compared with. `pending_ids` are the
    petitions waiting for an extension decision: their ids as `todo_pending_ids(user)` reads them
    (the default: read here), or `pending_extensions(user)`, the same as a subquery of the
    statement. A caller that keeps the compiled statement (`governance.pagination.kept_list`)
    passes both: `now` is then the statement's only varying parameter.

    Each branch is a duty the rules above let the user discharge:

    * the handling unit: its queue (place, accept, handle, reply) and its disputes (a resolved
      petition rated unsatisfied: call back or reopen);
    * a micro-grid head: the grid's open petitions located in their micro-grid;
    * a department: the dispatched petitions where its part is open (report in, reply, note);
    * a tier above (community, street, district, administrators): overdue, late or supervised open
      petitions below it, or dispatched by it (urge, supervise), and pending extension decisions.
    """
    scope = scope_for(user)
    nothing = Q(pk__in=[])
    if not scope.is_staff_member:
        return nothing
    duties = [nothing]
    own_areas = _desk_area_ids(scope)
    if scope.sees_all:
        duties.append(Q(status__in=[Status.INTAKE, Status.RETURNED]))
    if own_areas:
        duties.append(Q(handler_area_id__in=own_areas, status__in=HANDLER_QUEUE))
        duties.append(Q(handler_area_id__in=own_areas, status=Status.RESOLVED, rating=Rating.UNSATISFIED))
    if microgrids := _microgrid_ids(scope):
        duties.append(
            Q(microgrid_id__in=microgrids, tier=Tier.GRID, handler_area_id=F("grid_id"), status__in=MICROGRID_QUEUE)
        )
    if scope.is_department_member and scope.department_ids:
        open_parts = Assignment.objects.filter(department_id__in=scope.department_ids, status__in=OPEN_PARTS)
        duties.append(Q(status=Status.DISPATCHED, pk__in=open_parts.values("petition_id")))
    tier = actor_tier(user)
    if tier > Tier.GRID:
        if scope.sees_all:
            below = Q()
        else:
            below = Q(tier__lt=tier) | Q(status=Status.DISPATCHED, tier=tier)
            if own_areas:
                below |= Q(status=Status.DISPATCHED, handler_area_id__in=own_areas)
        # Two branches, each matching a partial index (appeals_pet_attention, appeals_pet_deadline_open),
        # so PostgreSQL can OR bitmaps instead of scanning the scope.
        duties.append(Q(status__in=sorted(ACTIVE)) & (Q(escalated_on_deadline=True) | Q(supervised=True)) & below)
        duties.append(Q(status__in=sorted(TIMED_STATUSES), deadline_at__lt=now or timezone.now()) & below)
        # Few rows wait for a decision at any time: their ids, read first, keep this branch on the
        # primary key (a subquery inside an OR would be checked row by row).
        if pending_ids is None:
            pending_ids = _pending_extension_petition_ids(getattr(user, "pk", None))
        if isinstance(pending_ids, QuerySet) or pending_ids:
            pending_ids = pending_ids if isinstance(pending_ids, QuerySet) else list(pending_ids)
            duties.append(Q(pk__in=pending_ids, status__in=[*IN_HAND, Status.DISPATCHED]) & below)
    condition = duties[0]
    for duty in duties[1:]:
        condition |= duty
    return condition


def todo_pending_ids(user: Any) -> tuple[int, ...]:
    """The pending extension decisions `todo_filter(user)` reads: empty where that branch is not
    its (staff at grid tier and below, non-staff)."""
    if not scope_for(user).is_staff_member or actor_tier(user) <= Tier.GRID:
        return ()
    return tuple(_pending_extension_petition_ids(getattr(user, "pk", None)))


def pending_extensions(user: Any) -> QuerySet:
    """The petitions with an extension request waiting for a decision, but the user's own, as a
    subquery (`_pending_extension_petition_ids` reads the same ids)."""
    requests = ExtensionRequest.objects.filter(status=ExtensionStatus.PENDING)
    if getattr(user, "pk", None) is not None:
        requests = requests.exclude(requested_by_id=user.pk)
    return requests.values("petition_id")


def _pending_extension_petition_ids(user_pk: int | None) -> list[int]:
    """The petitions with an extension request waiting for a decision, but the user's own requests.

    `ExtensionRequest.objects.filter(status=PENDING).exclude(requested_by_id=user_pk)`'s ids, the
    statement written once (every 待办 page of a tier above asks; the ORM compiled it each time)."""
    with connections[ExtensionRequest.objects.db].cursor() as cursor:
        cursor.execute(_pending_extensions_sql(), [str(ExtensionStatus.PENDING.value), user_pk, user_pk])
        return [row[0] for row in cursor.fetchall()]


@cache
def _pending_extensions_sql() -> str:
    meta, quote = ExtensionRequest._meta, connections[ExtensionRequest.objects.db].ops.quote_name
    petition, status, requested_by = (
        quote(meta.get_field(name).column) for name in ("petition", "status", "requested_by")
    )
    return (
        f"SELECT {petition} FROM {quote(meta.db_table)} WHERE {status} = %s"
        f" AND ({requested_by} IS NULL OR %s IS NULL OR {requested_by} <> %s)"
    )


# --- Personal data -------------------------------------------------------------------------------


def contact_access(user: Any, petition: Petition) -> str:
    """How `user` may see the petition's contact details: OWN, HANDLER (unmasked, logged) or MASKED.

    The unit handling the petition now must call the resident: grid and community staff of the
    handling area's subtree, a micro-grid head acting for the grid, the lead department while the
    case is dispatched. Needs `petition.handler_area` loaded; no query otherwise (the scope is
    cached on the user for the request).
    """
    if petition.submitter_id is not None and petition.submitter_id == getattr(user, "pk", None):
        return OWN
    if user is None:
        return MASKED
    scope = scope_for(user)
    if (
        petition.status == Status.DISPATCHED
        and scope.is_department_member
        and petition.handler_department_id in scope.department_ids
    ):
        return HANDLER
    ask = _Ask(user, petition, Facts(), {})
    if scope.sees_all:
        return MASKED
    if petition.handler_area_id and actor_tier(user) <= Tier.COMMUNITY and ask.handles_by_area():
        return HANDLER
    if ask.handles_as_microgrid():
        return HANDLER
    return MASKED
