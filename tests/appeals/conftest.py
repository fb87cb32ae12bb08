"""Petition fixtures: a small taxonomy, and petitions routed into grid A (DS0C0G0)."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from appeals.models import Category, CategoryKind, Channel
from appeals.services import petition_escalate, petition_route, petition_submit

# A point inside micro-grid DS0C0G0M0 (the unit square at 120.00–120.01, 36.00–36.01).
POINT_A = (120.005, 36.005)
# Inside DS1C1G1M1, in the other street.
POINT_OTHER_STREET = (120.035, 36.035)


@pytest.fixture
def category(db, department):
    parent = Category.objects.create(code="T01", name="测试市容环境", kind=CategoryKind.EVENT)
    return Category.objects.create(
        code="T0101", name="测试暴露垃圾", kind=CategoryKind.EVENT, parent=parent, default_department=department
    )


@pytest.fixture
def submit(tree, category, settings):
    """Submit and route a petition synchronously; returns the routed petition.

    Each call files a new petition, however alike (the resident form's duplicate guard is off).
    """
    settings.PETITION_DUPLICATE_WINDOW_SECONDS = 0

    def _submit(point=POINT_A, *, route: bool = True, **overrides):
        values = {
            "channel": Channel.MOBILE,
            "title": "小区门口垃圾堆积",
            "description": "幸福路12号院门口垃圾三天没人清运，气味很大。",
            "contact_phone": "13800138000",
            "category": category,
            "lon": point[0] if point else None,
            "lat": point[1] if point else None,
        }
        values.update(overrides)
        petition = petition_submit(**values).petition
        if route:
            petition_route(petition_id=petition.pk)
            petition.refresh_from_db()
        return petition

    return _submit


@pytest.fixture
def resident_form(tree, category):
    """The resident's petition form as posted: each call a fresh idempotency key (a new form load)."""

    def _form(**overrides: str) -> dict[str, str]:
        return {
            "title": "小区门口垃圾堆积",
            "description": "幸福路12号院门口垃圾三天没人清运，气味很大。",
            "category": str(category.pk),
            "community": str(tree["DS0C0"].pk),
            "address": "幸福路12号",
            "lon": "",
            "lat": "",
            "contact_name": "王女士",
            "contact_phone": "13800138000",
            "idempotency_key": str(uuid.uuid4()),
            **overrides,
        }

    return _form


def act(client, user, petition, action, data=None):
    """POST one action's short form on the petition page as `user` (fields without their prefix)."""
    client.force_login(user)
    payload = {f"{action}-{key}": value for key, value in (data or {}).items()}
    return client.post(reverse("appeals:act", args=[petition.tracking_no, action]), payload)


@pytest.fixture
def at_street(submit, grid_worker_a, community_secretary):
    """A petition escalated by its grid and its community: at the street."""
    petition = submit()
    petition_escalate(petition_id=petition.pk, actor=grid_worker_a, note="需要社区协调")
    petition_escalate(petition_id=petition.pk, actor=community_secretary, note="需要街道吹哨")
    petition.refresh_from_db()
    return petition


@pytest.fixture
def todo_states(submit, grid_worker_a, community_secretary, street_command, department) -> dict:
    """Petitions in the states the worklist's tabs and 待办 tell apart, by name: waiting, late
    (accepted, past its deadline), escalated, supervised, elsewhere (another street), whistled
    (dispatched to `department`), done (resolved)."""
    from datetime import timedelta

    from django.utils import timezone

    from appeals.models import Petition
    from appeals.services import petition_accept, petition_whistle

    made = {"waiting": submit(title="待签收"), "late": submit(title="超期")}
    petition_accept(petition_id=made["late"].pk, actor=grid_worker_a)
    Petition.objects.filter(pk=made["late"].pk).update(deadline_at=timezone.now() - timedelta(hours=2))
    made["escalated"] = submit(title="上报")
    petition_escalate(petition_id=made["escalated"].pk, actor=grid_worker_a, note="需要社区")
    made["supervised"] = submit(title="督办")
    Petition.objects.filter(pk=made["supervised"].pk).update(supervised=True)
    made["elsewhere"] = submit(POINT_OTHER_STREET, title="别处")
    whistled = made["whistled"] = submit(title="吹哨")
    petition_escalate(petition_id=whistled.pk, actor=grid_worker_a, note="需要社区")
    petition_escalate(petition_id=whistled.pk, actor=community_secretary, note="需要街道")
    petition_whistle(petition_id=whistled.pk, actor=street_command, lead_department_id=department.pk)
    made["done"] = submit(title="办结")
    Petition.objects.filter(pk=made["done"].pk).update(status="resolved", resolved_at=timezone.now())
    return made
