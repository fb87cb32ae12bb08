"""A community worker places an intake case by clicking the map (issue 6, item 10).

The click asks the point lookup for the micro-grid under it; its grid is chosen in the place form's
area tree, and posting the form moves the petition there. Screenshots of the page at 360 px and
1366 px go to test-results/screens/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from appeals.models import Channel, Petition, Status
from appeals.services import petition_route, petition_submit
from governance.models import Role
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = Path(__file__).resolve().parents[2] / "test-results" / "screens"
TARGET_GRID = "第1街道1社区2网格"  # DS0C0G1, the grid of micro-grids DS0C0G1M0/M1


@pytest.fixture
def intake_case(tree):
    make_user("c_worker", role=Role.COMMUNITY_WORKER, area=tree["DS0C0"])
    petition = petition_submit(
        channel=Channel.STAFF,
        title="楼道堆放杂物",
        description="三楼楼道堆放纸箱，堵塞消防通道。",
        contact_phone="13800138000",
        reported_area=tree["DS0C0"],
        address="无法定位的地址",
    ).petition
    petition_route(petition_id=petition.pk)
    petition.refresh_from_db()
    assert petition.status == Status.INTAKE
    return petition


def test_a_community_worker_places_an_intake_case_by_clicking_the_map(page, login, intake_case):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: "Content Security Policy" in message.text and errors.append(message.text))
    page.set_viewport_size({"width": 1366, "height": 768})
    login("c_worker")

    page.goto(f"/petitions/{intake_case.tracking_no}/")
    page.wait_for_selector("#place-map[data-ready='1']")
    # The grids of the community are drawn; click inside the one whose tooltip names the target.
    paths = page.locator("#place-map path.leaflet-interactive")
    target = None
    for index in range(paths.count()):
        paths.nth(index).hover(force=True)
        if TARGET_GRID in " ".join(page.locator(".leaflet-tooltip").all_inner_texts()):
            target = paths.nth(index)
            break
    assert target is not None, "the target grid is not drawn on the place map"
    box = target.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.75)

    page.wait_for_selector("#place-map[data-state='chosen']")
    assert page.input_value("#id_place-area") == "DS0C0G1"
    assert TARGET_GRID in page.locator("#place-map-result").inner_text()
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "petition-place-community-1366.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 740})
    page.screenshot(path=str(SCREENS / "petition-place-community-360.png"), full_page=True)

    page.click("#action-place form button[type=submit]")
    page.wait_for_url(f"**/petitions/{intake_case.tracking_no}/")

    moved = Petition.objects.select_related("handler_area").get(pk=intake_case.pk)
    assert (moved.status, moved.handler_area.code) == (Status.ASSIGNED, "DS0C0G1")
    assert "已分拨" in page.content() or "分拨" in page.content()
    assert errors == []
