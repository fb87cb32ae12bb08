"""A community with a building, houses and a resident, staff of each role, and small upload builders."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from governance.identity import id_check_character
from governance.models import Role
from residents.imports import jobs
from residents.models import Building, House, ImportJob, Resident
from residents.services import building_create, district_tags_ensure, house_create, resident_create
from tests.factories import Tree, build_tree, make_user

RESIDENT_HEADER = ["姓名", "公民身份号码", "性别", "手机号", "门牌", "与户主关系", "户籍类型", "迁入日期", "备注"]


def id_number(birth: date, serial: int = 123, region: str = "370203") -> str:
    """A valid ID number for a birth date (serial odd: a man)."""
    first17 = f"{region}{birth:%Y%m%d}{serial:03d}"
    return first17 + id_check_character(first17)


def csv_bytes(header: list[str], rows: list[list[Any]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


@dataclass
class Community:
    tree: Tree
    building: Building
    houses: list[House]
    other_house: House  # in the other street's community DS1C1
    outsider: Resident  # lives in other_house
    users: dict[str, Any] = field(default_factory=dict)

    @property
    def community(self):
        return self.tree["DS0C0"]


def build_community() -> Community:
    tree = build_tree()
    district_tags_ensure()
    building = building_create(
        code="B-001", name="幸福路12号楼", address="幸福路12号", microgrid=tree["DS0C0G0M0"], units=3, floors=6
    )
    houses = [
        house_create(
            address=f"幸福路12号1单元{room}",
            doorplate_code=f"MP-{room}",
            microgrid=tree["DS0C0G0M0"],
            building=building,
            unit=1,
            floor=1,
            room=str(room),
        )
        for room in (101, 102, 103)
    ]
    other_house = house_create(address="和平路8号2单元202", doorplate_code="MP-OUT", microgrid=tree["DS1C1G1M1"])
    outsider = resident_create(
        house=other_house, name="欧阳外街", id_number=id_number(date(1980, 5, 5), 555), phone="13912345678"
    )
    users = {
        "worker": make_user("i_worker", role=Role.COMMUNITY_WORKER, area=tree["DS0C0"]),
        "secretary": make_user("i_secretary", role=Role.COMMUNITY_SECRETARY, area=tree["DS0C0"]),
        "grid_worker": make_user("i_grid", role=Role.GRID_WORKER, area=tree["DS0C0G0"]),
        "street": make_user("i_street", role=Role.STREET_COMMAND, area=tree["DS0"]),
        "other_worker": make_user("i_other", role=Role.COMMUNITY_WORKER, area=tree["DS1C1"]),
        "admin": make_user("i_admin", role=Role.ADMINISTRATOR),
        "resident": make_user("i_resident"),
    }
    return Community(tree, building, houses, other_house, outsider, users)


@pytest.fixture(name="place")
def place_fixture(db, settings) -> Community:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LANGUAGE_CODE = "zh-hans"
    return build_community()


def upload(
    place: Community, content: bytes, *, kind: str = "resident", name: str = "居民.csv", user: str = "worker"
) -> ImportJob:
    return jobs.import_job_create(
        actor=place.users[user], kind=kind, community=place.community, file_name=name, content=content
    )


def check(place: Community, job: ImportJob, mapping: dict[str, str] | None = None, user: str = "worker") -> ImportJob:
    """Map (the suggestion unless given) and run the dry run as the worker would."""
    jobs.import_job_map(actor=place.users[user], job=job, mapping=mapping if mapping is not None else job.mapping)
    jobs.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def run_import(place: Community, job: ImportJob, user: str = "worker") -> ImportJob:
    jobs.import_job_start(actor=place.users[user], job=job)
    jobs.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    return job
