"""Hand-made cases through the services, in October 2025 (the National Day holiday month).

Each petition takes one path the rates must handle: a return and re-routing, an escalation, a
whistle to a department that reports in and replies, a merge, an extension refused, a
supervision, a call-back, a reopening. The report's figures are checked against the plain count
of `test_report_figures.reference` and against the facts each case was built to show.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from analytics.selectors.report import report_figures
from appeals.models import Category, CategoryKind, Channel, Rating
from appeals.services import (
    petition_accept,
    petition_ask_extension,
    petition_decide_extension,
    petition_escalate,
    petition_place,
    petition_reply,
    petition_return,
    petition_route,
    petition_submit,
    petition_supervise,
    petition_whistle,
)
from appeals.services.dispatch import assignment_reply, assignment_report_in
from appeals.services.outcome import petition_callback, petition_merge, petition_rate, petition_reopen
from tests.analytics.test_report_figures import flatten, reference

SH = ZoneInfo("Asia/Shanghai")
POINT_A = (120.005, 36.005)  # micro-grid DS0C0G0M0
PHONE = "13800138000"


def at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2025, 10, day, hour, minute, tzinfo=SH)


@pytest.fixture
def category(db, department):
    parent = Category.objects.create(code="T01", name="测试市容环境", kind=CategoryKind.EVENT)
    return Category.objects.create(
        code="T0101", name="测试暴露垃圾", kind=CategoryKind.EVENT, parent=parent, default_department=department
    )


@pytest.fixture
def cases(
    tree,
    category,
    settings,
    grid_worker_a,
    grid_worker_b,
    community_secretary,
    street_command,
    department,
    department_handler,
):
    settings.PETITION_DUPLICATE_WINDOW_SECONDS = 0
    settings.SATISFACTION_BASIC_WEIGHT = 0.8

    def submit(when: datetime):
        with time_machine.travel(when, tick=False):
            petition = petition_submit(
                channel=Channel.MOBILE,
                title="小区门口垃圾堆积",
                description="幸福路12号院门口垃圾三天没人清运，气味很大。",
                contact_phone=PHONE,
                category=category,
                lon=POINT_A[0],
                lat=POINT_A[1],
            ).petition
            petition_route(petition_id=petition.pk)
        return petition.pk

    def step(when: datetime, service, **kwargs):
        with time_machine.travel(when, tick=False):
            return service(**kwargs)

    # 1. Accepted at once after the holiday, replied, rated satisfied.
    one = submit(at(9, 9))
    step(at(9, 9, 30), petition_accept, petition_id=one, actor=grid_worker_a)
    step(at(9, 11), petition_reply, petition_id=one, actor=grid_worker_a, reply="已清运")
    step(at(9, 15), petition_rate, petition_id=one, rating=Rating.SATISFIED, contact_phone=PHONE)
    # 2. Returned by the grid (not its case), placed in grid B by the community, accepted there.
    two = submit(at(10, 9))
    step(at(10, 9, 10), petition_return, petition_id=two, actor=grid_worker_a, reason="不在本网格")
    step(at(10, 9, 20), petition_place, petition_id=two, actor=community_secretary, area=tree["DS0C0G1"])
    step(at(10, 9, 40), petition_accept, petition_id=two, actor=grid_worker_b)
    # 3. Escalated to the community, then the street, whistled to a department that reports in
    #    and replies; the resident is called back: basically satisfied.
    three = submit(at(13, 9))
    step(at(13, 9, 5), petition_accept, petition_id=three, actor=grid_worker_a)
    step(at(13, 10), petition_escalate, petition_id=three, actor=grid_worker_a, note="需社区协调")
    step(at(13, 10, 30), petition_accept, petition_id=three, actor=community_secretary)
    step(at(13, 11), petition_escalate, petition_id=three, actor=community_secretary, note="需街道协调")
    step(at(13, 14, 30), petition_accept, petition_id=three, actor=street_command)
    step(at(13, 15), petition_whistle, petition_id=three, actor=street_command, lead_department_id=department.pk)
    step(at(14, 9), assignment_report_in, petition_id=three, department_id=department.pk, actor=department_handler)
    step(
        at(15, 9),
        assignment_reply,
        petition_id=three,
        department_id=department.pk,
        actor=department_handler,
        reply="已修复",
    )
    step(at(17, 10), petition_callback, petition_id=three, actor=street_command, result=Rating.BASIC)
    # 4. A duplicate of 2 (still open), merged into it before anyone accepted it.
    four = submit(at(20, 9))
    step(at(20, 9, 15), petition_merge, petition_id=four, into_id=two, actor=community_secretary)
    # 5. Accepted, an extension asked and refused; supervised by the street.
    five = submit(at(21, 9))
    step(at(21, 9, 10), petition_accept, petition_id=five, actor=grid_worker_a)
    with time_machine.travel(at(21, 9, 20), tick=False):
        request = petition_ask_extension(
            petition_id=five, actor=grid_worker_a, reason="等配件", new_deadline=at(31, 17)
        )
    step(at(21, 10), petition_decide_extension, request_id=request.pk, actor=community_secretary, grant=False)
    step(at(22, 10), petition_supervise, petition_id=five, actor=street_command, note="请尽快办理")
    # 6. Rated unsatisfied, reopened, replied again and rated satisfied.
    six = submit(at(23, 9))
    step(at(23, 9, 5), petition_accept, petition_id=six, actor=grid_worker_a)
    step(at(23, 10), petition_reply, petition_id=six, actor=grid_worker_a, reply="已处理")
    step(at(23, 11), petition_rate, petition_id=six, rating=Rating.UNSATISFIED, contact_phone=PHONE)
    step(at(23, 12), petition_reopen, petition_id=six, contact_phone=PHONE, reason="还没好")
    step(at(24, 9), petition_accept, petition_id=six, actor=grid_worker_a)
    step(at(24, 10), petition_reply, petition_id=six, actor=grid_worker_a, reply="已彻底处理")
    step(at(24, 11), petition_rate, petition_id=six, rating=Rating.SATISFIED, contact_phone=PHONE)
    return tree


NOW = datetime(2025, 11, 20, 10, tzinfo=SH)


@pytest.mark.parametrize("code", ["D", "DS0", "DS0C0", "DS0C0G0", "DS0C0G1"])
def test_the_hand_made_cases_match_the_plain_count(cases, code):
    area = cases[code]
    assert flatten(report_figures(area, 2025, 10, now=NOW)) == reference(area, 2025, 10, now=NOW, weight=0.8)


def test_each_case_shows_in_its_figure(cases, department):
    figures = report_figures(cases["DS0"], 2025, 10, now=NOW)
    assert figures["volume"]["total"]["value"] == 6
    assert figures["returns"]["returns"]["value"] == 1
    assert figures["overdue"]["escalated"]["value"] == 2
    assert figures["overdue"]["supervised"]["value"] == 1
    assert figures["extensions"]["asked"]["value"] == 1 and figures["extensions"]["refused"]["value"] == 1
    assert figures["extensions"]["granted"]["value"] == 0
    # Outcomes: 1 satisfied, 3 basic (call-back), 6 satisfied after its 不满意; the merged 4 has none.
    resolution = figures["rates"]["resolution"]
    assert (resolution["numerator"], resolution["denominator"]) == (3.0, 3)
    satisfaction = figures["rates"]["satisfaction"]
    assert (satisfaction["numerator"], satisfaction["denominator"]) == (2.8, 3)
    every = figures["rates"]["satisfaction_every_round"]
    assert (every["numerator"], every["denominator"]) == (2.8, 4)
    assert figures["returns"]["disputes"]["value"] == 1
    # Rounds owing an acceptance: 1, 2 (grid B; grid A's returned round excluded), 3 ×3 tiers,
    # 5, 6 ×2 (reopened); the merged 4's round is excluded.
    response = figures["rates"]["response"]
    assert response["denominator"] == 8
    departments = [entry["unit"]["code"] for entry in figures["rates"]["by_department"]]
    assert departments == [department.code]
    assert figures["times"]["response_hours"]["count"] >= 8


def test_an_area_with_no_petitions_has_counts_of_zero_and_no_rates(cases):
    figures = report_figures(cases["DS1"], 2025, 10, now=NOW)
    assert figures["volume"]["total"] == {"value": 0, "prev": 0, "last_year": 0, "mom": None, "yoy": None}
    for name in ("response", "resolution", "satisfaction"):
        assert figures["rates"][name]["value"] is None and figures["rates"][name]["denominator"] == 0
    assert figures["times"]["response_hours"] == {"median": None, "p90": None, "count": 0}
    assert figures["categories"]["top"] == []


def test_a_petition_at_midnight_beijing_time_counts_in_the_month_it_starts(tree):
    from appeals.models import Petition
    from appeals.services._base import location_columns

    grid = tree["DS0C0G0"]
    for number, moment in enumerate([datetime(2025, 10, 31, 23, 59, 59, tzinfo=SH), datetime(2025, 11, 1, tzinfo=SH)]):
        Petition.objects.create(
            tracking_no=f"M{number:08d}",
            channel=Channel.MOBILE,
            title="测试",
            description="测试",
            handler_area=grid,
            status="assigned",
            tier=1,
            created_at=moment,
            **location_columns(grid),
        )
    october = report_figures(tree["DS0"], 2025, 10, now=NOW)["volume"]["total"]
    november = report_figures(tree["DS0"], 2025, 11, now=NOW)["volume"]["total"]
    assert (october["value"], november["value"], november["prev"]) == (1, 1, 1)
