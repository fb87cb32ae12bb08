"""Records shared by the records tests: houses and residents in the test tree, staff of each role."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from governance.identity import id_check_character
from governance.models import Role
from residents.models import Building, House, Resident
from residents.services import building_create, district_tags_ensure, house_create, resident_create
from tests.factories import Tree, build_tree, make_department, make_user


def id_number(birth: date, serial: int = 123, region: str = "370203") -> str:
    """A valid ID number for a birth date (serial odd: a man)."""
    first17 = f"{region}{birth:%Y%m%d}{serial:03d}"
    return first17 + id_check_character(first17)


@dataclass
class Records:
    tree: Tree
    building: Building
    house: House  # in DS0C0G0M0
    other_house: House  # in DS1C1G1M1 (the other street)
    adult: Resident
    minor: Resident
    outsider: Resident  # lives in other_house
    users: dict[str, Any] = field(default_factory=dict)


ROLE_POSTS = {
    "grid_worker": (Role.GRID_WORKER, "DS0C0G0"),
    "microgrid_head": (Role.MICROGRID_HEAD, "DS0C0G0M0"),
    "community_worker": (Role.COMMUNITY_WORKER, "DS0C0"),
    "community_secretary": (Role.COMMUNITY_SECRETARY, "DS0C0"),
    "street_command": (Role.STREET_COMMAND, "DS0"),
    "district_centre": (Role.DISTRICT_CENTRE, "D"),
    "other_grid_worker": (Role.GRID_WORKER, "DS1C1G1"),
}


def build_records() -> Records:
    tree = build_tree()
    district_tags_ensure()
    building = building_create(
        code="B-001", name="幸福路12号楼", address="幸福路12号", microgrid=tree["DS0C0G0M0"], units=3, floors=6
    )
    house = house_create(
        address="幸福路12号1单元101", microgrid=tree["DS0C0G0M0"], building=building, unit=1, floor=1, room="101"
    )
    other_house = house_create(address="和平路8号2单元202", microgrid=tree["DS1C1G1M1"])
    adult = resident_create(
        house=house,
        name="王建国",
        id_number=id_number(date(1950, 3, 15), 131),
        phone="13912340001",
        relation="householder",
    )
    minor = resident_create(
        house=house, name="王小明", id_number=id_number(date.today().replace(year=date.today().year - 10, day=1), 152)
    )
    outsider = resident_create(house=other_house, name="欧阳外街", phone="13912345678")
    users = {name: make_user(f"r_{name}", role=role, area=tree[code]) for name, (role, code) in ROLE_POSTS.items()}
    users["department_handler"] = make_user("r_dept", role=Role.DEPARTMENT_HANDLER, department=make_department())
    users["administrator"] = make_user("r_admin", role=Role.ADMINISTRATOR)
    users["resident"] = make_user("r_resident")
    return Records(tree, building, house, other_house, adult, minor, outsider, users)


@pytest.fixture
def records(db, settings) -> Records:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return build_records()
