"""Generated from the action registry × every role × petitions in every state.

For every cell: each action the policy offers succeeds when taken through the real service (in a
savepoint, so the next attempt sees the same petition); each action it does not offer is refused
with the policy's own reason. The API's `actions` and the staff page's forms are exactly the
policy's list, and everything on a 待办 list has something to do. `EXPECTED` writes the policy out
as a table, so a change of who may do what shows up here as a diff.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from appeals import policy
from appeals.actions import REGISTRY, action_perform
from appeals.models import Petition, Rating
from appeals.selectors import petitions_visible_to
from appeals.services import (
    assignment_reply,
    assignment_report_in,
    petition_accept,
    petition_ask_extension,
    petition_escalate,
    petition_handle,
    petition_merge,
    petition_rate,
    petition_reply,
    petition_return,
    petition_whistle,
)
from governance.errors import DomainError
from governance.models import Role
from tests.factories import make_department, make_user

PHONE = "13800138000"


class _Rollback(Exception):
    pass


@pytest.fixture
def people(tree, department):
    assisting = make_department("SJ", "区市场监督管理局")
    return {
        "grid_worker": make_user("m_grid", role=Role.GRID_WORKER, area=tree["DS0C0G0"]),
        "microgrid_head": make_user("m_micro", role=Role.MICROGRID_HEAD, area=tree["DS0C0G0M0"]),
        "community_worker": make_user("m_cworker", role=Role.COMMUNITY_WORKER, area=tree["DS0C0"]),
        "community_secretary": make_user("m_secretary", role=Role.COMMUNITY_SECRETARY, area=tree["DS0C0"]),
        "street_command": make_user("m_street", role=Role.STREET_COMMAND, area=tree["DS0"]),
        "district_centre": make_user("m_district", role=Role.DISTRICT_CENTRE, area=tree["D"]),
        "department_handler": make_user("m_lead", role=Role.DEPARTMENT_HANDLER, department=department),
        "department_leader": make_user("m_assist", role=Role.DEPARTMENT_LEADER, department=assisting),
        "administrator": make_user("m_admin", role=Role.ADMINISTRATOR),
        "resident": make_user("m_resident"),
        "anonymous": AnonymousUser(),
        "by_phone": AnonymousUser(),  # a resident following the petition with its number and phone
    }


def _states(submit, tree, people, department) -> dict[str, Petition]:
    """One petition in each state worth telling apart, all located in micro-grid DS0C0G0M0."""
    grid, community, street = people["grid_worker"], people["community_secretary"], people["street_command"]
    assisting = people["department_leader"].posts.get().department
    n = iter(range(100))

    def new(**kw):
        i = next(n)
        return submit(title=f"矩阵诉求{i}", description=f"矩阵描述{i}号", submitter=people["resident"], **kw)

    def at_street():
        p = new()
        petition_escalate(petition_id=p.pk, actor=grid, note="上报")
        petition_escalate(petition_id=p.pk, actor=community, note="上报")
        return p

    def dispatched(*, assist_replied: bool):
        p = at_street()
        petition_whistle(
            petition_id=p.pk, actor=street, lead_department_id=department.pk, assisting_department_ids=[assisting.pk]
        )
        assignment_report_in(petition_id=p.pk, department_id=department.pk, actor=people["department_handler"])
        if assist_replied:
            assignment_report_in(petition_id=p.pk, department_id=assisting.pk, actor=people["department_leader"])
            assignment_reply(
                petition_id=p.pk, department_id=assisting.pk, actor=people["department_leader"], reply="已配合"
            )
        return p

    def resolved():
        p = new()
        petition_accept(petition_id=p.pk, actor=grid)
        petition_handle(petition_id=p.pk, actor=grid)
        petition_reply(petition_id=p.pk, actor=grid, reply="已处理")
        return p

    states = {}
    states["submitted"] = new(route=False)
    states["intake"] = new(point=None, reported_area=tree["DS0C0"])
    states["assigned"] = new()
    p = new()
    petition_accept(petition_id=p.pk, actor=grid)
    states["accepted"] = p
    p = new()
    petition_accept(petition_id=p.pk, actor=grid)
    petition_handle(petition_id=p.pk, actor=grid)
    states["processing"] = p
    p = new()
    petition_escalate(petition_id=p.pk, actor=grid, note="需要社区协调")
    states["escalated_away"] = p
    p = new()
    petition_return(petition_id=p.pk, actor=grid, reason="不属于本网格")
    states["returned"] = p
    states["at_street"] = at_street()
    p = at_street()
    petition_escalate(petition_id=p.pk, actor=street, note="需要区级协调")
    states["at_district"] = p
    states["dispatched_assist_pending"] = dispatched(assist_replied=False)
    states["dispatched_assist_replied"] = dispatched(assist_replied=True)
    p = new()
    petition_accept(petition_id=p.pk, actor=grid)
    petition_ask_extension(
        petition_id=p.pk, actor=grid, reason="需要协调物业", new_deadline=p.deadline_at + timedelta(days=10)
    )
    states["extension_pending"] = p
    states["resolved"] = resolved()
    p = resolved()
    petition_rate(petition_id=p.pk, rating=Rating.UNSATISFIED, actor=people["resident"])
    states["resolved_unsatisfied"] = p
    p = resolved()
    petition_rate(petition_id=p.pk, rating=Rating.SATISFIED, actor=people["resident"])
    states["closed"] = p
    p = new()
    petition_merge(petition_id=p.pk, into_id=new().pk, actor=grid)
    states["merged"] = p
    return {name: Petition.objects.select_related("handler_area").get(pk=p.pk) for name, p in states.items()}


def _data(name: str, petition: Petition, tree, department, master: Petition) -> dict:
    deadline = petition.deadline_at or timezone.now()
    return {
        "note": "矩阵测试",
        "reply": "矩阵答复",
        "reason": "矩阵理由",
        # A transfer goes somewhere else than the unit handling it now.
        "area": tree["DS0C0G1"] if name == "transfer" else tree["DS0C0G0"],
        "lead_department": department,
        "assisting_departments": [],
        "new_deadline": deadline + timedelta(days=30),
        "grant": True,
        "rating": Rating.SATISFIED,
        "result": "satisfied",
        "into": master.tracking_no,
    }


# The cases people ran into (issue 9), and what each role must and must not be offered.
MUST = [
    ("assigned", "grid_worker", {"accept", "escalate", "return"}),
    ("assigned", "microgrid_head", {"accept", "escalate"}),
    ("processing", "microgrid_head", {"reply"}),
    ("intake", "community_secretary", {"place"}),
    ("returned", "community_secretary", {"place"}),
    ("at_street", "street_command", {"whistle"}),
    ("at_district", "district_centre", {"whistle"}),
    ("assigned", "community_secretary", {"transfer"}),
    ("at_street", "street_command", {"transfer"}),
    ("assigned", "district_centre", {"transfer"}),
    ("dispatched_assist_pending", "department_leader", {"report_in", "assign_handler"}),
    ("dispatched_assist_pending", "district_centre", {"urge", "supervise"}),
    ("dispatched_assist_pending", "street_command", {"urge", "supervise"}),
    ("dispatched_assist_replied", "department_handler", {"department_reply"}),
    ("extension_pending", "community_secretary", {"decide_extension"}),
    ("resolved", "resident", {"rate", "reopen"}),
    ("resolved", "by_phone", {"rate", "reopen"}),
    ("resolved", "grid_worker", {"callback", "close"}),
]
MUST_NOT = [
    ("escalated_away", "grid_worker", {"accept", "escalate", "return", "place"}),  # it went up: not theirs
    ("returned", "grid_worker", {"place", "accept"}),  # the grid that returned it cannot place it again
    (
        "dispatched_assist_pending",
        "department_handler",
        {"report_in", "department_reply"},
    ),  # reported in; assist pending
    (
        "dispatched_assist_replied",
        "department_leader",
        {"report_in", "department_reply", "assign_handler"},
    ),  # already replied
    ("dispatched_assist_pending", "department_handler", {"assign_handler"}),  # a handler does not assign
    ("extension_pending", "grid_worker", {"decide_extension", "ask_extension"}),  # its own request
    ("at_street", "community_secretary", {"accept", "whistle"}),
    ("at_district", "district_centre", {"urge", "escalate", "return"}),  # no tier above the district
    ("assigned", "grid_worker", {"whistle", "urge", "supervise", "transfer"}),
    ("assigned", "department_handler", set(REGISTRY)),
    ("resolved", "grid_worker", {"rate"}),
    ("resolved_unsatisfied", "resident", {"rate"}),
]
NOTHING_FOR = {"anonymous"}
NOTHING_IN = {"closed", "merged"}


def test_every_offered_action_succeeds_and_every_other_is_refused_with_the_policys_reason(
    submit, tree, people, department
):
    states = _states(submit, tree, people, department)
    master = submit(title="主诉求", description="作为并单的主诉求", submitter=people["resident"])
    problems: list[str] = []
    taken: set[str] = set()
    table: dict[str, dict[str, list[str]]] = {state: {} for state in states}
    for state, petition in states.items():
        facts = policy.facts_for(petition)
        for persona, user in people.items():
            context = {"contact_phone": PHONE} if persona == "by_phone" else {}
            offered = policy.actions_for(user, petition, facts=facts, **context)
            table[state][persona] = offered
            for name in REGISTRY:
                # 分派: the leader of the assisting department is its only staff here.
                handler = {"handler": people["department_leader"]}
                data = {**_data(name, petition, tree, department, master), **handler, **context}
                try:
                    # Offered actions write: each runs in a savepoint rolled back afterwards. The
                    # others must be refused before writing anything (if not, the test fails anyway).
                    with transaction.atomic() if name in offered else nullcontext():
                        action_perform(name, petition=petition, actor=user, data=data)
                        raise _Rollback
                except _Rollback:
                    if name not in offered:
                        problems.append(f"{state}/{persona}/{name}: not offered, but it succeeded")
                    taken.add(name)
                except DomainError as error:
                    if name in offered:
                        problems.append(f"{state}/{persona}/{name}: offered, but refused: {error.message}")
                        continue
                    reason = policy.decide(user, name, petition, facts=facts, **context).reason
                    if error.message != reason:
                        problems.append(f"{state}/{persona}/{name}: refused with {error.message!r}, not {reason!r}")
    assert not problems, "\n".join(problems)
    assert taken == set(REGISTRY), f"never offered anywhere: {set(REGISTRY) - taken}"
    for state, persona, names in MUST:
        assert names <= set(table[state].get(persona, ())), (state, persona, table[state].get(persona))
    for state, persona, names in MUST_NOT:
        assert not names & set(table[state].get(persona, ())), (state, persona, table[state].get(persona))
    assert not any(by_persona[persona] for by_persona in table.values() for persona in NOTHING_FOR)
    assert not any(any(table[state].values()) for state in NOTHING_IN)


def test_the_api_and_the_page_list_exactly_the_policys_actions_and_every_todo_has_one(submit, tree, people, department):
    states = _states(submit, tree, people, department)
    signed_in = {name: user for name, user in people.items() if user.is_authenticated}
    todo = {
        name: set(petitions_visible_to(user).filter(policy.todo_filter(user)).values_list("pk", flat=True))
        for name, user in signed_in.items()
    }
    api = APIClient()
    for persona, user in signed_in.items():
        api.force_authenticate(user)
        for state, petition in states.items():
            offered = policy.actions_for(user, petition)
            if petition.pk in todo[persona]:
                assert offered, f"{state} is on the 待办 of {persona} with nothing to do"
            response = api.get(reverse("api-petition-detail", args=[petition.tracking_no]))
            if response.status_code == 404:
                assert offered == [], f"{persona} is offered {offered} on {state} but cannot open it"
                continue
            assert response.json()["actions"] == [policy.action_slug(name) for name in offered], (state, persona)
    for persona in ("grid_worker", "microgrid_head", "street_command", "department_handler", "administrator"):
        user = people[persona]
        for state in ("assigned", "returned", "dispatched_assist_pending", "extension_pending", "resolved"):
            petition = states[state]
            if not petitions_visible_to(user).filter(pk=petition.pk).exists():
                continue
            client = Client()
            client.force_login(user)
            response = client.get(reverse("appeals:detail", args=[petition.tracking_no]))
            shown = [form["name"] for form in response.context["action_forms"]]
            assert shown == policy.actions_for(user, petition), (state, persona)
    # Everybody's 待办 holds what they are expected to move on.
    assert states["assigned"].pk in todo["grid_worker"] and states["assigned"].pk in todo["microgrid_head"]
    assert states["escalated_away"].pk in todo["community_secretary"]
    assert states["escalated_away"].pk not in todo["grid_worker"]
    assert states["extension_pending"].pk in todo["community_secretary"]
    assert states["returned"].pk in todo["community_worker"]
    assert states["dispatched_assist_pending"].pk in todo["department_leader"]
    assert states["dispatched_assist_pending"].pk in todo["department_handler"]
    assert states["dispatched_assist_replied"].pk not in todo["department_leader"]
    assert states["resolved_unsatisfied"].pk in todo["grid_worker"]
    assert states["at_street"].pk in todo["street_command"] and states["at_district"].pk in todo["district_centre"]
