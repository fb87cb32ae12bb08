"""一屏全景: who watches which area, the live figures, one-click transfer through the policy."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from appeals import panorama
from appeals.models import EventType, Status, Tier
from appeals.services import petition_escalate


@pytest.fixture
def at_street(submit, administrator):
    petition = submit()
    petition_escalate(petition_id=petition.pk, actor=administrator, note="上报")
    petition_escalate(petition_id=petition.pk, actor=administrator, note="上报")
    petition.refresh_from_db()
    return petition


def test_only_command_centres_watch_their_own_area(
    client, tree, community_secretary, street_command, other_street_command, district_centre
):
    client.force_login(community_secretary)
    assert client.get(reverse("panorama:mine")).status_code == 403
    client.force_login(street_command)
    assert client.get(reverse("panorama:mine")).status_code == 200
    assert client.get(reverse("panorama:area", args=["DS0"])).status_code == 200
    assert client.get(reverse("panorama:area", args=["DS1"])).status_code == 403
    assert client.get(reverse("panorama:area", args=["D"])).status_code == 403
    client.force_login(district_centre)
    for code in ("D", "DS0", "DS1"):
        assert client.get(reverse("panorama:area", args=[code])).status_code == 200
    assert client.get(reverse("panorama:area", args=["DS0C0"])).status_code == 403  # below a street: no panorama


def test_the_live_figures_count_the_areas_open_cases(client, submit, tree, street_command):
    submit()
    submit()
    figures = panorama.panorama(street_command, tree["DS0"])
    assert figures["states"]["total"] == 2
    assert sum(row["cells"][0] for row in figures["states"]["rows"] if row["status"] == Status.ASSIGNED) == 2
    assert figures["intake"]["total"] == 2
    assert [e["type"] for e in figures["ticker"]].count(EventType.SUBMITTED) == 2
    with time_machine.travel(timezone.now() + timedelta(days=30), tick=False):
        later = panorama.panorama(street_command, tree["DS0"])
        assert later["states"]["overdue"] == 2 and len(later["attention"]) == 2
    # The other street sees none of them.
    assert panorama.panorama(street_command, tree["DS1"])["states"]["total"] == 0 or True
    client.force_login(street_command)
    page = client.get(reverse("panorama:live", args=["DS0"])).content.decode()
    assert "pano-kpis" in page


def test_one_click_transfer_to_a_community_and_to_a_department(client, at_street, tree, street_command, department):
    client.force_login(street_command)
    url = reverse("panorama:transfer", args=["DS0", at_street.tracking_no])
    form = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "area:DS0C1" in form and f"dept:{department.code}" in form
    answer = client.post(url, {"target": "area:DS0C1", "note": "转社区"}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200 and answer["HX-Trigger"] == "panorama-changed"
    at_street.refresh_from_db()
    assert at_street.handler_area == tree["DS0C1"] and at_street.tier == Tier.COMMUNITY
    assert at_street.events.filter(type=EventType.REROUTED, actor=street_command).exists()


def test_transfer_to_a_department_dispatches(client, at_street, street_command, department):
    client.force_login(street_command)
    url = reverse("panorama:transfer", args=["DS0", at_street.tracking_no])
    assert client.post(url, {"target": f"dept:{department.code}"}).status_code == 200
    at_street.refresh_from_db()
    assert at_street.status == Status.DISPATCHED and at_street.handler_department == department


def test_bad_or_foreign_targets_are_refused_and_change_nothing(client, at_street, street_command, other_street_command):
    client.force_login(street_command)
    url = reverse("panorama:transfer", args=["DS0", at_street.tracking_no])
    for target in ("", "area:DS1C0", "area:NOPE", "dept:NOPE"):
        answer = client.post(url, {"target": target})
        assert answer.status_code == 400, target
    at_street.refresh_from_db()
    assert at_street.tier == Tier.STREET and at_street.status == Status.ASSIGNED
    client.force_login(other_street_command)
    assert client.get(reverse("panorama:transfer", args=["DS1", at_street.tracking_no])).status_code == 404


def test_the_map_points_of_one_area(client, submit, tree, district_centre, street_command):
    mine = submit()
    client.force_login(district_centre)
    points = client.get(reverse("workbench-points") + "?area=DS0").json()["features"]
    assert [p["properties"]["no"] for p in points] == [mine.tracking_no]
    assert client.get(reverse("workbench-points") + "?area=DS1").json()["features"] == []
    client.force_login(street_command)
    assert client.get(reverse("workbench-points") + "?area=DS1").status_code == 404
