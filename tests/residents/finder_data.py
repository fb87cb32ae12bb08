"""A fixed data set for the finder's tests: 320 residents over the test tree's 16 micro-grids.

Built from a seeded random generator, so every run holds the same people; the tests compare the
finder's answers with plain SQL written independently of it.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from governance.crypto import blind_index
from governance.identity import normalize_phone
from governance.scoping import level_values
from residents.models import House, HouseUse, Registration, Resident, ResidentStatus, ResidentTag, Tag
from tests.factories import Tree

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂"
ROADS = ("幸福路", "延安路", "辽宁路", "登州路", "台东一路")
NOTES = ("", "", "", "行动不便", "近期去过疫区", "子女在外地", "需要上门服务", "")
TAG_CODES = ("veteran", "unemployed", "disabled", "dibao", "party_member", "elderly_60", "elderly_80")
TODAY = dt.date(2026, 12, 2)


@dataclass
class FinderWorld:
    tree: Tree
    tags: dict[str, Tag]
    houses: list[House] = field(default_factory=list)
    residents: list[Resident] = field(default_factory=list)


def _phone(rng: random.Random) -> str:
    return "13" + "".join(str(rng.randrange(10)) for _ in range(9))


def build_finder_world(tree: Tree, *, seed: int = 7, per_microgrid: int = 20) -> FinderWorld:
    rng = random.Random(seed)
    tags = {code: Tag.objects.get(code=code, community__isnull=True) for code in TAG_CODES}
    world = FinderWorld(tree=tree, tags=tags)
    microgrids = sorted((a for code, a in tree.areas.items() if "M" in code), key=lambda a: a.code)
    number = 0
    links: list[tuple[Resident, Tag]] = []
    for microgrid in microgrids:
        levels = level_values(microgrid)
        houses: list[House] = []
        people: list[Resident] = []
        for h in range(per_microgrid // 2):
            number += 1
            house = House(
                address=f"{rng.choice(ROADS)}{number}号{h + 1}户",
                microgrid=microgrid,
                use=rng.choice(HouseUse.values),
            )
            house.address_key = "".join(ch for ch in house.address if ch.isalnum())
            for name, value in levels.items():
                setattr(house, name, value)
            houses.append(house)
            occupants = 1 if rng.random() < 0.3 else 2
            for _ in range(occupants):
                birth = TODAY - dt.timedelta(days=rng.randrange(0, 95 * 365))
                # A few birthdays on today's date: the age boundary must be exact.
                if rng.random() < 0.05:
                    birth = birth.replace(month=TODAY.month, day=TODAY.day)
                phone = _phone(rng)
                status = ResidentStatus.ACTIVE if rng.random() < 0.93 else ResidentStatus.MOVED_AWAY
                resident = Resident(
                    name=rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
                    gender=rng.choice(("male", "female")),
                    birth_date=birth,
                    phone=phone,
                    phone_hash=blind_index("phone", normalize_phone(phone)),
                    house=house,
                    registration=rng.choice(Registration.values),
                    status=status,
                    living_alone=occupants == 1,
                    notes=rng.choice(NOTES),
                )
                for name, value in levels.items():
                    setattr(resident, name, value)
                people.append(resident)
                links.extend((resident, tags[code]) for code in TAG_CODES if rng.random() < 0.18)
        House.objects.bulk_create(houses)
        for resident in people:
            resident.house = resident.house  # the house's new primary key
        Resident.objects.bulk_create(people)
        world.houses.extend(houses)
        world.residents.extend(people)
    ResidentTag.objects.bulk_create([ResidentTag(resident=r, tag=t) for r, t in links])
    return world
