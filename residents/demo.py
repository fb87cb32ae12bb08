"""Demo records for `seed_demo`: one community at real scale, lighter records everywhere else.

The demo accounts' community (the first in path order) is filled like 嘉定山 in seed 000: 4,600
houses in six-storey walk-ups of three units, about 10,000 residents with the age pyramid of an old
Qingdao neighbourhood (a third over 60), elderly people living alone, veterans, party members with
their building party groups and party-member households. Every other community gets two buildings
with a few households each, so every worker finds records in their area.

Rows go in with bulk_create; ID numbers and phones are valid, encrypted by the field and indexed by
their blind index like any other record. Deterministic for a seed.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import connections, models, router
from django.db.models import Q
from django.utils import timezone

from governance.crypto import EncryptedTextField, blind_index, encrypt
from governance.identity import id_check_character
from grids.models import Area, AreaLevel
from residents.models import (
    Building,
    Gender,
    House,
    HouseUse,
    PartyGroup,
    PartyHousehold,
    RecordChange,
    Registration,
    Relation,
    Resident,
    ResidentTag,
    Tag,
    normalize_address,
)
from residents.services.tags import ELDERLY_AGES, LIVING_ALONE, district_tags_ensure, years_before

BATCH = 2000
BIG_COMMUNITY_HOUSES = 4600
UNITS, FLOORS, FLATS_PER_FLOOR = 3, 6, 2  # 36 flats a building
OTHER_BUILDINGS, OTHER_HOUSES_PER_BUILDING = 2, 6
SHIBEI = "370203"
OTHER_REGIONS = ("370211", "370212", "370281", "371302", "370685", "410102", "340104")

# The age pyramid of an old walk-up neighbourhood (share of residents per age band): young families
# moved out, the first owners grew old in place.
AGE_BANDS = [
    ((0, 6), 0.04),
    ((7, 17), 0.07),
    ((18, 29), 0.08),
    ((30, 44), 0.14),
    ((45, 59), 0.20),
    ((60, 69), 0.21),
    ((70, 79), 0.16),
    ((80, 89), 0.08),
    ((90, 99), 0.02),
]
# How a house is used (old Qingdao housing: some rented, a few group rentals, shops on the street).
HOUSE_USES = [
    (HouseUse.OWNER_OCCUPIED, 0.70),
    (HouseUse.RENTED, 0.16),
    (HouseUse.VACANT, 0.08),
    (HouseUse.GROUP_RENTAL, 0.02),
    (HouseUse.SHOP, 0.04),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
GIVEN = "国华建军明英秀兰桂芳玉珍凤琴海涛伟强磊敏静丽娜婷浩宇轩欣怡子涵梓萱文杰志勇春梅淑霞德胜立新红"
STREETS_OF_OLD_QINGDAO = ("嘉定路", "嘉定山路", "长春路", "延安一路", "洛阳路", "吉林路", "抚顺路")


@dataclass
class Plan:
    """Rows planned in memory (column → value) before the bulk inserts."""

    buildings: list[dict] = field(default_factory=list)
    houses: list[tuple[int, dict]] = field(default_factory=list)  # (building index, house)
    residents: list[tuple[int, dict]] = field(default_factory=list)  # (house index, resident)


def insert_rows(model: Any, rows: list[dict]) -> list[int]:
    """Insert rows given as column → value; returns their ids in order.

    The ORM's per-field preparation costs more than the database for tens of thousands of rows, so
    the rows go in raw: on PostgreSQL ids drawn from the table's sequence and one COPY; elsewhere
    (the SQLite demo) ids after the table's largest and one executemany, inside seed_demo's
    transaction. Encrypted fields are encrypted here, like the field would.
    """
    if not rows:
        return []
    connection = connections[router.db_for_write(model)]
    ops = connection.ops
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    defaults = {}
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults[f.attname] = now
        elif f.attname not in rows[0]:
            defaults[f.attname] = f.get_default()
    postgres = connection.vendor == "postgresql"

    def convert(f: Any) -> Any:
        if isinstance(f, EncryptedTextField):
            return lambda value: encrypt(value or "")
        if isinstance(f, models.JSONField):
            return json.dumps
        if postgres:
            return None
        if isinstance(f, models.DateTimeField):
            return ops.adapt_datetimefield_value
        if isinstance(f, models.DateField):
            return ops.adapt_datefield_value
        return None

    converters = [(f.attname, convert(f)) for f in fields]
    table = ops.quote_name(model._meta.db_table)
    pk = model._meta.pk.column
    columns = ", ".join(ops.quote_name(c) for c in [pk, *(f.column for f in fields)])

    def values(pk_value: int, row: dict) -> list[Any]:
        out = [pk_value]
        for name, converter in converters:
            value = row[name] if name in row else defaults[name]
            out.append(converter(value) if converter is not None and value is not None else value)
        return out

    with connection.cursor() as cursor:
        if postgres:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, pk, len(rows)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for pk_value, row in zip(ids, rows, strict=True):
                    copy.write_row(values(pk_value, row))
            return ids
        cursor.execute(f"SELECT COALESCE(MAX({ops.quote_name(pk)}), 0) FROM {table}")
        first = cursor.fetchone()[0] + 1
        ids = list(range(first, first + len(rows)))
        marks = ", ".join(["%s"] * (len(fields) + 1))
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({marks})",
            [values(pk_value, row) for pk_value, row in zip(ids, rows, strict=True)],
        )
        return ids


def _chains(district: Area) -> dict[int, dict[str, Any]]:
    """The level columns of every micro-grid of the district, by micro-grid id."""
    rows = list(Area.objects.filter(path__startswith=district.path).values_list("pk", "level", "parent_id", "path"))
    parent = {pk: parent_id for pk, _level, parent_id, _path in rows}
    level = {pk: lvl for pk, lvl, _parent, _path in rows}
    chains = {}
    for pk, lvl, _parent_id, path in rows:
        if lvl != AreaLevel.MICROGRID:
            continue
        columns: dict[str, Any] = {"microgrid_id": pk, "area_path": path}
        node = parent[pk]
        while node is not None:
            name = {AreaLevel.GRID: "grid_id", AreaLevel.COMMUNITY: "community_id", AreaLevel.STREET: "street_id"}.get(
                level[node]
            )
            if name:
                columns[name] = node
            node = parent.get(node)
        chains[pk] = columns
    return chains


def _pick(rng: random.Random, weighted: list[tuple[Any, float]]) -> Any:
    return rng.choices([value for value, _ in weighted], weights=[weight for _, weight in weighted])[0]


def _birth(rng: random.Random, today: date, low: int, high: int) -> date:
    age = rng.randint(low, high)
    return today - timedelta(days=age * 365 + rng.randint(0, 364))


def _id_number(rng: random.Random, birth: date, gender: str, region: str) -> str:
    serial = rng.randint(0, 99) * 10 + (
        rng.choice((1, 3, 5, 7, 9)) if gender == Gender.MALE else rng.choice((0, 2, 4, 6, 8))
    )
    first17 = f"{region}{birth:%Y%m%d}{serial:03d}"
    return first17 + id_check_character(first17)


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


class _People:
    """Makes residents for a house: a household shaped by its use and the age pyramid."""

    def __init__(self, rng: random.Random, today: date):
        self.rng = rng
        self.today = today
        self.phones: set[str] = set()
        self.numbers: set[str] = set()

    def phone(self) -> str:
        while True:
            number = f"1{self.rng.choice('3578')}{self.rng.randint(0, 999_999_999):09d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def person(self, *, relation: str, ages: tuple[int, int], floating: bool, columns: dict, house: dict) -> dict:
        rng = self.rng
        gender = rng.choice((Gender.MALE, Gender.FEMALE))
        birth = _birth(rng, self.today, *ages)
        region = rng.choice(OTHER_REGIONS) if floating else SHIBEI
        age = (self.today - birth).days // 365
        number = _id_number(rng, birth, gender, region)
        while number in self.numbers:  # one living record per ID number
            number = _id_number(rng, birth, gender, region)
        self.numbers.add(number)
        phone = self.phone() if age >= 14 and rng.random() < (0.95 if age < 75 else 0.6) else ""
        moved_in = self.today - timedelta(days=rng.randint(30, 365 * (3 if floating else 30)))
        return {
            "name": _name(rng),
            "gender": gender,
            "birth_date": birth,
            "id_number": number,
            "id_number_hash": blind_index("id", number),
            "phone": phone,
            "phone_hash": blind_index("phone", phone) if phone else "",
            "relation": relation,
            "registration": Registration.FLOATING if floating else Registration.REGISTERED,
            "moved_in_on": max(moved_in, birth),
            "living_alone": False,
            **columns,
        }

    def household(self, house: dict, columns: dict, *, big: bool) -> list[dict]:
        """The residents of one house (none if vacant or a shop)."""
        rng = self.rng
        if house["use"] in (HouseUse.VACANT, HouseUse.SHOP):
            return []
        if house["use"] == HouseUse.GROUP_RENTAL:
            return [
                self.person(relation=Relation.TENANT, ages=(19, 40), floating=True, columns=columns, house=house)
                for _ in range(rng.randint(5, 9))
            ]
        floating = house["use"] == HouseUse.RENTED
        head_band = _pick(rng, [(band, share) for band, share in AGE_BANDS if band[0] >= 30])
        people = [
            self.person(
                relation=Relation.TENANT if floating else Relation.HOUSEHOLDER,
                ages=head_band,
                floating=floating,
                columns=columns,
                house=house,
            )
        ]
        head_age = head_band[0]
        # Elderly householders often live alone (独居) or as a couple; younger ones with children.
        if head_age >= 60:
            size = _pick(rng, [(1, 0.27), (2, 0.50), (3, 0.23)])
        else:
            size = _pick(rng, [(1, 0.12), (2, 0.23), (3, 0.40), (4, 0.25)])
        if size >= 2:
            low, high = max(18, head_band[0] - 5), head_band[1] + 5
            people.append(
                self.person(
                    relation=Relation.SPOUSE, ages=(low, min(high, 99)), floating=floating, columns=columns, house=house
                )
            )
        for _ in range(size - 2):
            if head_age >= 60:
                people.append(
                    self.person(relation=Relation.CHILD, ages=(30, 50), floating=floating, columns=columns, house=house)
                )
            else:
                child_ages = (0, 17) if head_age < 45 else (10, 25)
                people.append(
                    self.person(
                        relation=Relation.CHILD, ages=child_ages, floating=floating, columns=columns, house=house
                    )
                )
        if len(people) == 1:
            people[0]["living_alone"] = True
        return people


def _tag_people(rng: random.Random, residents: list[dict], today: date) -> list[tuple[int, str]]:
    """Manual tags: veterans, party members, disabled, 低保, unemployed (by age and chance)."""
    tags = []
    for index, person in enumerate(residents):
        age = (today - person["birth_date"]).days // 365
        if age >= 18:
            if person["gender"] == Gender.MALE and rng.random() < (0.09 if age >= 45 else 0.03):
                tags.append((index, "veteran"))
            if rng.random() < (0.14 if age >= 60 else 0.07):
                tags.append((index, "party_member"))
            if rng.random() < 0.025:
                tags.append((index, "disabled"))
            if rng.random() < 0.015:
                tags.append((index, "dibao"))
            if 18 <= age < 60 and rng.random() < 0.04:
                tags.append((index, "unemployed"))
            if age >= 70 and person["living_alone"] and rng.random() < 0.5:
                tags.append((index, "empty_nest"))
        elif rng.random() < 0.03:
            tags.append((index, "left_behind_child"))
    return tags


def _plan_community(
    rng: random.Random,
    people: _People,
    plan: Plan,
    *,
    community: tuple[int, str],
    microgrids: list[int],
    chains: dict[int, dict],
    houses_wanted: int,
    big: bool,
    building_counter: list[int],
) -> None:
    community_id, community_name = community
    road = rng.choice(STREETS_OF_OLD_QINGDAO) if big else community_name.removesuffix("社区") + "路"
    houses_made = 0
    per_building = UNITS * FLOORS * FLATS_PER_FLOOR if big else OTHER_HOUSES_PER_BUILDING
    number = 0
    while houses_made < houses_wanted:
        number += 1
        building_counter[0] += 1
        microgrid = microgrids[(number - 1) % len(microgrids)]
        columns = chains[microgrid]
        address = f"{road}{number}号"
        units = UNITS if big else 1
        floors = FLOORS if big else 3
        building = {
            "code": f"LD{community_id:05d}-{number:03d}",
            "name": f"{road}{number}号楼",
            "address": address,
            "units": units,
            "floors": floors,
            **columns,
        }
        plan.buildings.append(building)
        building_index = len(plan.buildings) - 1
        for unit in range(1, units + 1):
            for floor in range(1, floors + 1):
                for flat in range(1, (FLATS_PER_FLOOR if big else 2) + 1):
                    if houses_made >= houses_wanted or (not big and flat + (floor - 1) * 2 > per_building):
                        break
                    room = f"{floor}{flat:02d}"
                    use = HouseUse.SHOP if floor == 1 and unit == 1 and big and flat == 1 else _pick(rng, HOUSE_USES)
                    if use == HouseUse.SHOP and floor != 1:
                        use = HouseUse.OWNER_OCCUPIED
                    house_address = f"{address}{unit}单元{room}"
                    house = {
                        "address": house_address,
                        "address_key": normalize_address(house_address),
                        "doorplate_code": f"QR{community_id:05d}{number:03d}{unit}{room}",
                        "unit": unit,
                        "floor": floor,
                        "room": room,
                        "use": use,
                        **columns,
                    }
                    plan.houses.append((building_index, house))
                    house_index = len(plan.houses) - 1
                    for person in people.household(house, columns, big=big):
                        plan.residents.append((house_index, person))
                    houses_made += 1


def seed_records(context: Any = None, *, seed: int | None = None, scale: float | None = None) -> dict[str, int]:
    """The demo district's records (see the module docstring); returns counts."""
    seed = context.seed if seed is None and context is not None else (seed if seed is not None else 2024)
    scale = context.scale if scale is None and context is not None else (scale if scale is not None else 1.0)
    district = (
        getattr(context, "district", None) or Area.objects.filter(level=AreaLevel.DISTRICT).order_by("code").first()
    )
    if district is None:
        raise ValueError("No district: seed the area tree first.")
    rng = random.Random(f"{seed}:records")
    today = timezone.localdate()
    tags = district_tags_ensure()
    chains = _chains(district)
    communities = list(
        Area.objects.filter(path__startswith=district.path, level=AreaLevel.COMMUNITY)
        .order_by("path")
        .values_list("pk", "name")
    )
    microgrids_of: dict[int, list[int]] = {}
    for pk, columns in sorted(chains.items(), key=lambda item: item[1]["area_path"]):
        if "community_id" in columns:
            microgrids_of.setdefault(columns["community_id"], []).append(pk)
    people = _People(rng, today)
    plan = Plan()
    counter = [0]
    for index, community in enumerate(communities):
        microgrids = microgrids_of.get(community[0])
        if not microgrids:
            continue
        big = index == 0
        wanted = (
            max(36, round(BIG_COMMUNITY_HOUSES * min(scale, 1.0)))
            if big
            else OTHER_BUILDINGS * OTHER_HOUSES_PER_BUILDING
        )
        _plan_community(
            rng,
            people,
            plan,
            community=community,
            microgrids=microgrids if big else microgrids[:1],
            chains=chains,
            houses_wanted=wanted,
            big=big,
            building_counter=counter,
        )

    building_ids = insert_rows(Building, plan.buildings)
    for building_index, house in plan.houses:
        house["building_id"] = building_ids[building_index]
    house_ids = insert_rows(House, [house for _index, house in plan.houses])
    for house_index, person in plan.residents:
        person["house_id"] = house_ids[house_index]
    people_rows = [person for _index, person in plan.residents]
    resident_ids = insert_rows(Resident, people_rows)
    manual = _tag_people(rng, people_rows, today)
    tag_rows = [{"resident_id": resident_ids[i], "tag_id": tags[code].pk} for i, code in manual]
    # The derived tags, as derived_tags_refresh would set them (every demo resident is active).
    for index, person in enumerate(people_rows):
        for code, age in ELDERLY_AGES.items():
            if person["birth_date"] <= years_before(today, age):
                since = years_before(person["birth_date"], -age)
                tag_rows.append({"resident_id": resident_ids[index], "tag_id": tags[code].pk, "since": since})
        if person["living_alone"]:
            tag_rows.append({"resident_id": resident_ids[index], "tag_id": tags[LIVING_ALONE].pk, "since": None})
    insert_rows(ResidentTag, [row for row in tag_rows if "since" in row])
    insert_rows(ResidentTag, [row for row in tag_rows if "since" not in row])
    buildings = list(Building.objects.filter(pk__in=building_ids).order_by("pk"))
    houses = list(House.objects.filter(pk__in=house_ids).only(*HOUSE_COLUMNS).order_by("pk"))
    members = list(
        Resident.objects.filter(pk__in=[resident_ids[i] for i, code in manual if code == "party_member"]).only(
            "pk", "house_id"
        )
    )
    party = _seed_party(rng, members, houses, buildings)
    counts = {
        "record buildings": len(building_ids),
        "record houses": len(house_ids),
        "record residents": len(resident_ids),
        "resident tags": ResidentTag.objects.filter(resident__area_path__startswith=district.path).count(),
        "party households": party,
    }
    if context is not None and hasattr(context, "summary"):
        context.summary.update(counts)
    return counts


HOUSE_COLUMNS = ("pk", "building_id", "unit", "microgrid_id", "grid_id", "community_id", "street_id", "area_path")


def _seed_party(
    rng: random.Random, party_members: list[Resident], houses: list[House], buildings: list[Building]
) -> int:
    """楼院党小组 (one per four buildings of a micro-grid) and 党员中心户 (a party member's house
    looking after its neighbours on the same staircase)."""
    groups: list[PartyGroup] = []
    members_of_group: list[list[Building]] = []
    by_microgrid: dict[int, list[Building]] = {}
    for building in buildings:
        by_microgrid.setdefault(building.microgrid_id, []).append(building)
    for microgrid_buildings in by_microgrid.values():
        for start in range(0, len(microgrid_buildings), 4):
            chunk = microgrid_buildings[start : start + 4]
            first = chunk[0]
            groups.append(
                PartyGroup(
                    name=f"{first.name}党小组",
                    microgrid_id=first.microgrid_id,
                    grid_id=first.grid_id,
                    community_id=first.community_id,
                    street_id=first.street_id,
                    area_path=first.area_path,
                )
            )
            members_of_group.append(chunk)
    groups = PartyGroup.objects.bulk_create(groups, batch_size=BATCH)
    through = PartyGroup.buildings.through
    through.objects.bulk_create(
        [
            through(partygroup_id=group.pk, building_id=building.pk)
            for group, chunk in zip(groups, members_of_group, strict=True)
            for building in chunk
        ],
        batch_size=BATCH,
    )
    group_of_building = {b.pk: g.pk for g, chunk in zip(groups, members_of_group, strict=True) for b in chunk}
    rng.shuffle(party_members)
    households: list[PartyHousehold] = []
    used: set[int] = set()
    houses_by_pk = {h.pk: h for h in houses}
    for member in party_members:
        house = houses_by_pk[member.house_id]
        if house.pk in used or house.building_id is None or rng.random() > 0.35:
            continue
        used.add(house.pk)
        households.append(
            PartyHousehold(
                house=house,
                member=member,
                group_id=group_of_building.get(house.building_id),
                microgrid_id=house.microgrid_id,
                grid_id=house.grid_id,
                community_id=house.community_id,
                street_id=house.street_id,
                area_path=house.area_path,
            )
        )
    households = PartyHousehold.objects.bulk_create(households, batch_size=BATCH)
    # Each looks after the other flats of its staircase (same building and unit).
    staircase: dict[tuple[int, int], list[int]] = {}
    for house in houses:
        if house.building_id is not None:
            staircase.setdefault((house.building_id, house.unit or 0), []).append(house.pk)
    links = PartyHousehold.linked_houses.through
    links.objects.bulk_create(
        [
            links(partyhousehold_id=household.pk, house_id=pk)
            for household in households
            for pk in staircase.get((household.house.building_id, household.house.unit or 0), [])[:10]
            if pk != household.house_id
        ],
        batch_size=BATCH,
    )
    return len(households)


def delete_records(district: Area) -> int:
    """Delete the district's records (before its areas, which they protect)."""
    inside = Q(area_path__startswith=district.path)
    resident_ids = Resident.objects.filter(inside).values("pk")
    PartyHousehold.objects.filter(inside).delete()
    PartyGroup.objects.filter(inside).delete()
    ResidentTag.objects.filter(resident__in=resident_ids).delete()
    RecordChange.objects.filter(
        Q(record_type="resident", record_id__in=resident_ids)
        | Q(record_type="house", record_id__in=House.objects.filter(inside).values("pk"))
        | Q(record_type="building", record_id__in=Building.objects.filter(inside).values("pk"))
    ).delete()
    deleted = Resident.objects.filter(inside).delete()[0]
    House.objects.filter(inside).delete()
    Building.objects.filter(inside).delete()
    Tag.objects.filter(community__path__startswith=district.path).delete()
    return deleted
