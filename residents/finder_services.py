"""Writes of 政策找人: saving a finder query as a policy, and recording a contact about it.

Each runs in one transaction; the rows are their own audit trail (who made the policy and when;
every contact is an append-only row with its author and time).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from governance.errors import DomainError, Forbidden, NotFound
from governance.scoping import scope_for
from grids.models import Area
from residents.finder import FinderQuery, finder_allowed, finder_residents, policy_get_for_user, policy_query
from residents.models import Resident
from residents.models.policy import ContactOutcome, Policy, PolicyContact

NAME_MAX = 100
TEXT_MAX = 5000
NOTE_MAX = 500


def _policy_area(user: Any, query: FinderQuery) -> Area:
    """The area a policy is made for: the one the query names, else the maker's only post's area."""
    scope = scope_for(user)
    if query.area_id is not None:
        area = Area.objects.filter(pk=query.area_id).first()
        if area is None or not scope.sees_area(area):
            raise DomainError(_("This area is outside your areas."), code="area_outside")
        return area
    if len(scope.areas) == 1:
        return Area.objects.get(pk=scope.areas[0][2])
    if scope.sees_all and not scope.areas:
        root = Area.objects.filter(parent__isnull=True).order_by("path").first()
        if root is not None:
            return root
    raise DomainError(
        _("You work in several areas: choose the area of the policy in the conditions."), code="area_required"
    )


@transaction.atomic
def policy_create(*, user: Any, name: str, text: str, query: FinderQuery) -> Policy:
    if not finder_allowed(user):
        raise Forbidden(_("Only staff posted to an area can save policies."))
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Give the policy a name."), code="name_required")
    if len(name) > NAME_MAX or len(text or "") > TEXT_MAX:
        raise DomainError(_("The policy's name or text is too long."), code="too_long")
    area = _policy_area(user, query)
    return Policy.objects.create(
        name=name,
        text=(text or "").strip(),
        conditions=query.to_conditions(),
        area=area,
        area_path=area.path,
        created_by=user,
    )


@transaction.atomic
def policy_contact_record(
    *, user: Any, policy_id: int, resident_id: int, outcome: str, note: str = ""
) -> PolicyContact:
    """Record that `user` contacted a resident about a policy; the resident must be one the user
    sees inside the policy's area and one the policy's conditions find (what the policy's list
    shows them; "not contacted since" aside, which a contact itself changes)."""
    if not finder_allowed(user):
        raise Forbidden(_("Only staff posted to an area can record contacts."))
    try:
        policy = policy_get_for_user(user, policy_id)
    except Http404:
        raise NotFound(_("No such policy in your areas.")) from None
    if outcome not in ContactOutcome.values:
        raise DomainError(_("Choose how the resident was contacted."), code="bad_outcome")
    if len(note or "") > NOTE_MAX:
        raise DomainError(_("The note is too long."), code="too_long")
    reachable = finder_residents(user, FinderQuery(), policy=policy).filter(pk=resident_id)
    resident = Resident.objects.filter(pk__in=reachable.values("pk")).select_for_update().first()
    if resident is None:
        raise NotFound(_("No such resident in your areas."))
    conditions = replace(policy_query(policy), not_contacted_since=None)
    if not finder_residents(user, conditions, policy=policy).filter(pk=resident.pk).exists():
        raise DomainError(_("This resident does not match the policy's conditions."), code="not_matching")
    return PolicyContact.objects.create(
        policy=policy, resident=resident, outcome=outcome, note=(note or "").strip(), contacted_by=user
    )
