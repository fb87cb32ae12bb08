"""The staff home page: each role's tiles count what its 待办 lists, units, map points, scoping."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from appeals import policy, workbench
from appeals.models import Status, Tier
from appeals.selectors import petitions_visible_to
from appeals.services import petition_escalate, petition_urge, petition_whistle, petitions_escalate_overdue


def _tiles(user):
    return {tile.key: tile.count for tile in workbench.todo_tiles(user)}


def test_each_tile_counts_rows_of_the_users_todo(submit, grid_worker_a, community_secretary):
    submit()
    submit()
    tiles = _tiles(grid_worker_a)
    todo = petitions_visible_to(grid_worker_a).filter(policy.todo_filter(grid_worker_a))
    assert tiles["total"] == todo.count() == 2
    assert tiles["to_accept"] == todo.filter(status=Status.ASSIGNED).count() == 2
    assert tiles["overdue"] == 0
    assert tiles["to_start"] == tiles["to_handle"] == 0
    # The secretary has no duty on fresh grid cases: nothing overdue yet.
    assert _tiles(community_secretary)["total"] == 0


def test_overdue_cases_show_up_for_the_tier_above(submit, community_secretary):
    petition = submit()
    with time_machine.travel(timezone.now() + timedelta(days=30), tick=False):
        tiles = _tiles(community_secretary)
        assert tiles["overdue"] == 1 and tiles["total"] == 1
        rows = workbench.unit_rows(community_secretary, petition.community)
        (row,) = [r for r in rows if r["area"] == petition.grid]
        assert sum(r["open"] for r in rows) == 1
        assert row["open"] == 1 and row["overdue"] == 1


def test_the_home_page_per_role(client, submit, grid_worker_a, community_secretary, street_command, district_centre):
    submit()
    for user, marker in (
        (grid_worker_a, "home-map"),
        (community_secretary, "trend-data"),
        (street_command, "trend-data"),
        (district_centre, "trend-data"),
    ):
        client.force_login(user)
        page = client.get(reverse("home")).content.decode()
        assert 'data-tile="total"' in page and marker in page


def test_map_points_are_the_users_subtree_only_and_masked(client, submit, grid_worker_a, grid_worker_b, tree):
    mine = submit(title="联系13912345678的垃圾")
    client.force_login(grid_worker_b)
    assert client.get(reverse("workbench-points")).json()["features"] == []
    client.force_login(grid_worker_a)
    (feature,) = client.get(reverse("workbench-points")).json()["features"]
    assert feature["properties"]["no"] == mine.tracking_no
    assert "13912345678" not in json.dumps(feature, ensure_ascii=False)


@pytest.mark.django_db
def test_anonymous_and_residents_do_not_get_points(client, resident):
    assert client.get(reverse("workbench-points")).status_code == 403
    client.force_login(resident)
    assert client.get(reverse("workbench-points")).status_code == 403


def test_the_district_urges_a_dispatched_case_escalated_to_it(
    submit, administrator, street_command, district_centre, department
):
    petition = submit()
    petition_escalate(petition_id=petition.pk, actor=administrator, note="上报")
    petition_escalate(petition_id=petition.pk, actor=administrator, note="上报")
    petition_whistle(petition_id=petition.pk, actor=street_command, lead_department_id=department.pk)
    petition.refresh_from_db()
    with time_machine.travel(petition.deadline_at + timedelta(minutes=1), tick=False):
        petitions_escalate_overdue()
        petition.refresh_from_db()
        assert petition.status == Status.DISPATCHED and petition.tier == Tier.DISTRICT and petition.supervised
        assert "urge" in set(policy.actions_for(district_centre, petition))
        todo = petitions_visible_to(district_centre).filter(policy.todo_filter(district_centre))
        assert petition in todo
        petition_urge(petition_id=petition.pk, actor=district_centre, note="请加快")
