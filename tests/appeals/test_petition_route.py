from appeals.models import Status, Tier
from appeals.services import petition_place, petition_route
from residents.services import house_create
from tests.appeals.conftest import POINT_OTHER_STREET


def test_it_routes_a_point_to_the_grid_of_its_microgrid(submit, tree):
    petition = submit(POINT_OTHER_STREET)
    assert petition.microgrid == tree["DS1C1G1M1"]
    assert (petition.grid, petition.community, petition.street) == (tree["DS1C1G1"], tree["DS1C1"], tree["DS1"])
    assert petition.handler_area == tree["DS1C1G1"] and petition.tier == Tier.GRID
    assert petition.area_path == tree["DS1C1G1M1"].path


def test_it_routes_by_the_address_of_a_known_house(submit, tree):
    house_create(address="幸福路 12 号", microgrid=tree["DS1C0G0M1"])
    petition = submit(None, address="幸福路12号")
    assert petition.microgrid == tree["DS1C0G0M1"]


def test_it_puts_an_unlocated_petition_in_the_reported_community_intake_queue(submit, tree, community_secretary):
    petition = submit(None, reported_area=tree["DS0C0"])
    assert petition.status == Status.INTAKE
    assert petition.handler_area == tree["DS0C0"] and petition.tier == Tier.COMMUNITY
    petition = petition_place(petition_id=petition.pk, actor=community_secretary, area=tree["DS0C0G1"])
    assert petition.status == Status.ASSIGNED and petition.handler_area == tree["DS0C0G1"]
    assert petition.tier == Tier.GRID and petition.area_path == tree["DS0C0G1"].path


def test_a_point_outside_the_district_goes_to_the_district_queue(submit, tree):
    petition = submit((121.5, 37.0))
    assert petition.status == Status.INTAKE and petition.handler_area == tree["D"]


def test_routing_twice_has_one_effect(submit):
    petition = submit()
    assert petition_route(petition_id=petition.pk) is None
    assert petition.events.filter(type="routed").count() == 1


def test_it_notifies_the_grid_workers(submit, grid_worker_a):
    petition = submit()
    assert grid_worker_a.notifications.filter(petition=petition, kind="new_petition").count() == 1
