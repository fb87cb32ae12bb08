"""What a row means for each kind: its cells cleaned, its key, the record it matches, what it changes.

Keys: a resident is the blind index of the ID number (the living record with it, else the latest),
a house its doorplate code (else its normalised address), a building its code. A key matched in
another community is a problem, never a silent move. Cells left empty change nothing on an update.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.crypto import blind_index
from governance.errors import DomainError
from governance.privacy import mask_id_number, mask_name, mask_phone
from governance.scoping import scope_for
from grids.models import Area, AreaLevel
from residents.imports import problems as p
from residents.imports.engine import Cells, RowPlan
from residents.imports.mapping import BUILDING, HOUSE, RESIDENT, field_label
from residents.models import (
    Building,
    Gender,
    House,
    HouseUse,
    Registration,
    Relation,
    Resident,
    ResidentStatus,
    ResidentTag,
    Tag,
    TagKind,
    normalize_address,
)
from residents.models.imports import ImportJob
from residents.policy import record_access
from residents.services import clean_personal
from residents.services.tags import TAG_SEPARATORS

# Rows fetched per IN (...) query when matching keys against the records.
MATCH_BATCH = 5000
# The level columns a record copies from its house or micro-grid.
LOCATION = ("microgrid_id", "grid_id", "community_id", "street_id", "area_path")


def _choices(pairs: dict[str, Iterable[str]]) -> dict[str, str]:
    """{folded label or synonym: stored value}."""
    table: dict[str, str] = {}
    for value, words in pairs.items():
        for word in (value, *words):
            table[str(word).replace(" ", "").lower()] = value
    return table


GENDERS = _choices({Gender.MALE: ("男", "男性", "m"), Gender.FEMALE: ("女", "女性", "f")})
RELATIONS = _choices(
    {
        Relation.HOUSEHOLDER: ("户主", "本人", "户主本人"),
        Relation.SPOUSE: ("配偶", "妻", "夫", "妻子", "丈夫"),
        Relation.CHILD: ("子女", "子", "女", "儿子", "女儿", "长子", "长女", "次子", "次女"),
        Relation.PARENT: ("父母", "父亲", "母亲", "父", "母"),
        Relation.GRANDCHILD: ("孙子女", "孙子", "孙女", "外孙", "外孙女"),
        Relation.SIBLING: ("兄弟姐妹", "兄", "弟", "姐", "妹"),
        Relation.TENANT: ("租户", "租客", "承租人"),
        Relation.OTHER: ("其他", "其它"),
    }
)
REGISTRATIONS = _choices(
    {
        Registration.REGISTERED: ("户籍", "户籍人口", "常住", "常住人口", "本地"),
        Registration.FLOATING: ("流动", "流动人口", "外来", "外来人口", "暂住"),
    }
)
STATUSES = _choices(
    {
        ResidentStatus.ACTIVE: ("在住", "正常", "居住", "现住"),
        ResidentStatus.MOVED_AWAY: ("迁出", "已迁出", "搬离", "外迁"),
        ResidentStatus.DECEASED: ("死亡", "已故", "去世", "注销"),
    }
)
USES = _choices(
    {
        HouseUse.OWNER_OCCUPIED: ("自住", "自有", "自用"),
        HouseUse.RENTED: ("出租", "租住", "租赁"),
        HouseUse.GROUP_RENTAL: ("群租",),
        HouseUse.VACANT: ("空置", "空房", "闲置"),
        HouseUse.SHOP: ("商铺", "商用", "门面", "网点"),
    }
)


def _shown_choices(table: dict[str, str]) -> list[str]:
    """The first Chinese word accepted for each value: what the message suggests writing."""
    shown: dict[str, str] = {}
    for word, value in table.items():
        if value not in shown and not word.isascii():
            shown[value] = word
    return list(shown.values())


SHOWN = {id(table): _shown_choices(table) for table in (GENDERS, RELATIONS, REGISTRATIONS, STATUSES, USES)}


class _Community:
    """The job's community: its micro-grids by code and name, and their level columns."""

    def __init__(self, community: Area):
        self.community = community
        areas = list(
            Area.objects.filter(path__startswith=community.path).only(
                "id", "code", "name", "level", "parent_id", "path"
            )
        )
        by_id = {area.pk: area for area in areas}
        self.microgrids: dict[str, Area] = {}
        names: dict[str, list[Area]] = {}
        for area in areas:
            if area.level == AreaLevel.MICROGRID:
                self.microgrids[area.code.lower()] = area
                names.setdefault(area.name.replace(" ", "").lower(), []).append(area)
        # A name shared by two micro-grids of the community is ambiguous: only codes find those.
        for name, found in names.items():
            if len(found) == 1:
                self.microgrids.setdefault(name, found[0])
        self.levels: dict[int, dict[str, Any]] = {}
        for area in areas:
            if area.level == AreaLevel.MICROGRID:
                grid = by_id.get(area.parent_id)
                self.levels[area.pk] = {
                    "microgrid_id": area.pk,
                    "grid_id": grid.pk if grid else None,
                    "community_id": community.pk,
                    "street_id": community.parent_id,
                    "area_path": area.path,
                }

    def microgrid(self, cells: Cells, name: str, *, required: bool) -> Area | None:
        value = cells.text(name, max_length=100, required=required)
        if not value:
            return None
        area = self.microgrids.get(value.replace(" ", "").lower())
        if area is None:
            cells.plan.problem(p.UNKNOWN_MICROGRID, cells.column(name), value=value)
        return area


class KindHandler:
    kind = ""
    key_field = ""
    unique_in_file: tuple[str, ...] = ()

    def __init__(self, job: ImportJob):
        self.job = job
        self.columns = {name: column for name, column in job.mapping.items() if column}
        self.community = _Community(job.community)
        self.scope = scope_for(job.created_by)

    @property
    def key_column(self) -> str:
        return self.column(self.key_field)

    def column(self, name: str) -> str:
        return self.columns.get(name) or field_label(self.kind, name)

    def key_shown(self, plan: RowPlan) -> str:
        return str(plan.values.get(self.key_field, ""))

    def where(self, record: Any) -> str:
        """The community of a record outside this import, named only to those who may see it."""
        area = Area.objects.filter(pk=record.community_id).only("name", "path").first()
        if area is not None and self.scope.sees_area(area):
            return area.name
        return _("a community outside your area")

    def clean(self, cells: Cells, plan: RowPlan) -> None:
        raise NotImplementedError

    def resolve(self, plans: list[RowPlan]) -> None:
        raise NotImplementedError

    def write(self, plans: list[RowPlan], *, actor: Any, progress: Any = None) -> dict[str, int]:
        from residents.imports import writers

        return writers.write(self, plans, actor=actor, progress=progress)

    @staticmethod
    def diff(record: Any, values: dict[str, Any], fields: Iterable[str], shown: Any) -> dict[str, tuple[str, str]]:
        changes = {}
        for name in fields:
            if name not in values:
                continue
            old, new = getattr(record, name), values[name]
            if old != new:
                changes[name] = (shown(name, old), shown(name, new))
        return changes


def _any(queryset: Any, column: str, values: list[str]) -> Any:
    """`column IN values`; on PostgreSQL as `= ANY(array)`, one parameter instead of thousands."""
    if connection.vendor == "postgresql":
        return queryset.extra(where=[f"{column} = ANY(%s)"], params=[list(values)])
    return queryset.filter(**{f"{column}__in": values})


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# --- Buildings ---------------------------------------------------------------------------------------


class BuildingHandler(KindHandler):
    kind = BUILDING
    key_field = "code"
    # What an import changes on a building on record (records' `building_update`); an import does
    # not move a building to another micro-grid.
    FIELDS = ("name", "address", "units", "floors")

    def clean(self, cells: Cells, plan: RowPlan) -> None:
        values = plan.values
        values["code"] = cells.text("code", max_length=40, required=True)
        values["name"] = cells.text("name", max_length=100, required=True)
        if cells.present("address"):
            values["address"] = cells.text("address", max_length=200)
        for name, high in (("units", 99), ("floors", 200)):
            number = cells.integer(name, low=1, high=high)
            if number is not None:
                values[name] = number
        microgrid = self.community.microgrid(cells, "microgrid", required=True)
        if microgrid is not None:
            values["microgrid_id"] = microgrid.pk
        plan.key = values["code"].upper() if values["code"] else ""
        plan.label = " ".join(v for v in (values["code"], values["name"]) if v)

    def resolve(self, plans: list[RowPlan]) -> None:
        keyed = [plan for plan in plans if plan.key and not plan.problems]
        existing: dict[str, Building] = {}
        codes = [plan.values["code"] for plan in keyed]
        for start in range(0, len(codes), MATCH_BATCH):
            for building in Building.objects.filter(code__in=codes[start : start + MATCH_BATCH]):
                existing[building.code.upper()] = building
        names = self._microgrid_names()
        for plan in keyed:
            building = existing.get(plan.key)
            if building is None:
                plan.values.setdefault("address", plan.values["name"])
                continue
            if building.community_id != self.job.community_id:
                plan.problem(p.OUT_OF_SCOPE, self.key_column, what=plan.values["code"], where=self.where(building))
                continue
            plan.target = building
            plan.changes = self.diff(building, plan.values, self.FIELDS, lambda n, v: _display(v))
        for plan in keyed:
            if plan.target is None and not plan.problems:
                plan.changes = {"microgrid_id": ("", names.get(plan.values.get("microgrid_id"), ""))}

    def _microgrid_names(self) -> dict[int, str]:
        return {area.pk: area.name for area in self.community.microgrids.values()}


# --- Houses ------------------------------------------------------------------------------------------


class HouseHandler(KindHandler):
    kind = HOUSE
    key_field = "doorplate_code"
    unique_in_file = ("address_key",)
    # What an import changes on a house on record (records' `house_update`); an import does not
    # move a house to another micro-grid.
    FIELDS = ("address", "doorplate_code", "building_id", "unit", "floor", "room", "use")

    def __init__(self, job: ImportJob):
        super().__init__(job)
        self.buildings = {
            building.code.upper(): building
            for building in Building.objects.filter(community=job.community).only("id", "code", "name", "microgrid_id")
        }
        self.building_microgrids = {building.pk: building.microgrid_id for building in self.buildings.values()}

    def key_shown(self, plan: RowPlan) -> str:
        return plan.values.get("doorplate_code") or plan.values.get("address", "")

    def clean(self, cells: Cells, plan: RowPlan) -> None:
        values = plan.values
        code = cells.text("doorplate_code", max_length=40)
        address = cells.text("address", max_length=200, required=True)
        if code:
            values["doorplate_code"] = code
        if address:
            values["address"] = address
            values["address_key"] = normalize_address(address)
        building = None
        building_code = cells.text("building_code", max_length=40)
        if building_code:
            building = self.buildings.get(building_code.upper())
            if building is None:
                plan.problem(p.UNKNOWN_BUILDING, cells.column("building_code"), value=building_code)
            else:
                values["building_id"] = building.pk
        for name, low, high in (("unit", 1, 99), ("floor", -5, 200)):
            number = cells.integer(name, low=low, high=high)
            if number is not None:
                values[name] = number
        if cells.present("room"):
            values["room"] = cells.text("room", max_length=20)
        use = cells.choice("use", USES, shown=SHOWN[id(USES)])
        if use:
            values["use"] = use
        microgrid = self.community.microgrid(cells, "microgrid", required=False)
        if microgrid is not None and building is not None and building.microgrid_id != microgrid.pk:
            plan.problem(
                p.ROW_REFUSED, cells.column("building_code"), reason=_("The building lies in another micro-grid.")
            )
        if microgrid is None and building is not None:
            microgrid = Area(pk=building.microgrid_id)
        if microgrid is not None:
            values["microgrid_id"] = microgrid.pk
        plan.key = code.upper() if code else ("@" + values.get("address_key", "") if address else "")
        plan.label = address or code

    def resolve(self, plans: list[RowPlan]) -> None:
        keyed = [plan for plan in plans if plan.key and not plan.problems]
        codes = [plan.values["doorplate_code"] for plan in keyed if plan.values.get("doorplate_code")]
        keys = [plan.values["address_key"] for plan in keyed]
        by_code: dict[str, House] = {}
        by_address: dict[str, House] = {}
        for start in range(0, max(len(codes), len(keys)), MATCH_BATCH):
            found = House.objects.filter(
                Q(doorplate_code__in=codes[start : start + MATCH_BATCH])
                | Q(address_key__in=keys[start : start + MATCH_BATCH])
            )
            for house in found:
                if house.doorplate_code:
                    by_code[house.doorplate_code.upper()] = house
                by_address[house.address_key] = house
        buildings = {building.pk: building.code for building in self.buildings.values()}
        names = {area.pk: area.name for area in self.community.microgrids.values()}
        uses = dict(HouseUse.choices)

        def shown(name: str, value: Any) -> str:
            if name == "building_id":
                return buildings.get(value, "")
            if name == "microgrid_id":
                return names.get(value, "")
            if name == "use":
                return str(uses.get(value, value or ""))
            return _display(value)

        for plan in keyed:
            code = plan.values.get("doorplate_code")
            house = by_code.get(code.upper()) if code else None
            same_address = by_address.get(plan.values["address_key"])
            if house is None and same_address is not None:
                if code and same_address.doorplate_code:
                    plan.problem(
                        p.DUPLICATE_EXISTING,
                        self.column("address"),
                        value=plan.values["address"],
                        other=_("the house with doorplate code %(code)s") % {"code": same_address.doorplate_code},
                    )
                    continue
                house = same_address  # the same house, on record without a doorplate code (or by address)
            elif house is not None and same_address is not None and same_address.pk != house.pk:
                plan.problem(
                    p.DUPLICATE_EXISTING,
                    self.column("address"),
                    value=plan.values["address"],
                    other=_("the house with doorplate code %(code)s")
                    % {"code": same_address.doorplate_code or same_address.address},
                )
                continue
            if house is None:
                if "microgrid_id" not in plan.values:
                    plan.problem(p.MISSING_VALUE, self.column("microgrid"))
                continue
            if house.community_id != self.job.community_id:
                plan.problem(p.OUT_OF_SCOPE, self.key_column, what=self.key_shown(plan), where=self.where(house))
                continue
            if (
                plan.values.get("building_id")
                and self.building_microgrid(plan.values["building_id"]) != house.microgrid_id
            ):
                plan.problem(
                    p.ROW_REFUSED, self.column("building_code"), reason=_("The building lies in another micro-grid.")
                )
                continue
            plan.target = house
            plan.changes = self.diff(house, plan.values, self.FIELDS, shown)
        for plan in keyed:
            if plan.target is None and not plan.problems:
                plan.changes = {
                    name: ("", shown(name, plan.values[name]))
                    for name in ("building_id", "use", "microgrid_id")
                    if plan.values.get(name)
                }

    def building_microgrid(self, building_id: int) -> int | None:
        return self.building_microgrids.get(building_id)


# --- Residents ---------------------------------------------------------------------------------------


class ResidentHandler(KindHandler):
    kind = RESIDENT
    key_field = "id_number"
    # What an import changes on a resident on record (records' `resident_update`, and for a status
    # `resident_move_away` / `resident_mark_deceased`).
    FIELDS = (
        "name",
        "gender",
        "birth_date",
        "phone",
        "house_id",
        "relation",
        "registration",
        "moved_in_on",
        "notes",
        "status",
        "moved_out_on",
    )
    PERSONAL = {"name": mask_name, "phone": mask_phone, "id_number": mask_id_number}

    def __init__(self, job: ImportJob):
        super().__init__(job)
        self.houses_by_code: dict[str, int] = {}
        self.houses_by_address: dict[str, int] = {}
        self.houses: dict[int, dict[str, Any]] = {}
        columns = ("pk", "doorplate_code", "address", "address_key", *LOCATION)
        for row in House.objects.filter(community=job.community).values_list(*columns):
            house = dict(zip(columns, row, strict=True))
            if house["doorplate_code"]:
                self.houses_by_code[house["doorplate_code"].upper()] = house["pk"]
            self.houses_by_address[house["address_key"]] = house["pk"]
            self.houses[house["pk"]] = house
        self.today = timezone.localdate()
        # The tags a cell may name: the district's and the community's, by name or code (folded).
        self.tags: dict[str, Tag] = {}
        for tag in Tag.objects.filter(Q(community__isnull=True) | Q(community=job.community)).order_by(
            "community_id", "pk"
        ):
            for word in (tag.code, tag.name):
                self.tags.setdefault(word.replace(" ", "").lower(), tag)

    def key_shown(self, plan: RowPlan) -> str:
        return mask_id_number(plan.values.get("id_number", ""))

    def _tags(self, cells: Cells, plan: RowPlan) -> None:
        text = cells.text("tags", max_length=500)
        if not text:
            return
        found: list[Tag] = []
        for name in re.split(f"[{re.escape(TAG_SEPARATORS)}]", text):
            name = name.strip()
            if not name:
                continue
            tag = self.tags.get(name.replace(" ", "").lower())
            if tag is None:
                plan.problem(p.UNKNOWN_TAG, cells.column("tags"), value=name)
            elif tag.kind != TagKind.MANUAL or not tag.is_active:
                plan.problem(p.TAG_NOT_GIVEN, cells.column("tags"), value=name)
            elif tag not in found:
                found.append(tag)
        if found:
            plan.values["tags"] = found

    def clean(self, cells: Cells, plan: RowPlan) -> None:
        from residents.imports.identity import check_id_number, normalize_phone_cell

        values = plan.values
        name = cells.text("name", max_length=50, required=True)
        raw_id = cells.text("id_number", max_length=30, required=True)
        number, derived_birth, derived_gender = "", None, ""
        if raw_id:
            number, derived_birth, derived_gender, reason = check_id_number(raw_id, today=self.today)
            if reason:
                plan.problem(
                    p.INVALID_ID_NUMBER, cells.column("id_number"), value=mask_id_number(raw_id), reason_code=reason
                )
            else:
                # The key even when other cells are wrong: a repeated person is reported either way.
                plan.key = blind_index("id", number)
        gender = cells.choice("gender", GENDERS, shown=["男", "女"])
        if gender and derived_gender and gender != derived_gender:
            plan.problem(
                p.ID_MISMATCH,
                cells.column("gender"),
                value=_gender(gender),
                expected=_gender(derived_gender),
            )
        birth = cells.date("birth_date", latest=self.today)
        if birth and derived_birth and birth != derived_birth:
            plan.problem(
                p.ID_MISMATCH, cells.column("birth_date"), value=birth.isoformat(), expected=derived_birth.isoformat()
            )
        phone = ""
        if cells.present("phone"):
            phone, ok = normalize_phone_cell(cells.raw.get("phone"))
            if not ok:
                plan.problem(p.INVALID_PHONE, cells.column("phone"), value=mask_phone(phone))
                phone = ""
        self._house(cells, plan)
        for field_name, table in (("relation", RELATIONS), ("registration", REGISTRATIONS), ("status", STATUSES)):
            value = cells.choice(field_name, table, shown=SHOWN[id(table)])
            if value:
                values[field_name] = value
        moved_in = cells.date("moved_in", latest=self.today)
        moved_out = cells.date("moved_out", latest=self.today)
        if moved_in:
            values["moved_in_on"] = moved_in
        if moved_out:
            values["moved_out_on"] = moved_out
            values.setdefault("status", ResidentStatus.MOVED_AWAY)
            if moved_in and moved_out < moved_in:
                plan.problem(
                    p.DATE_ORDER, cells.column("moved_out"), value=moved_out.isoformat(), other=moved_in.isoformat()
                )
        if values.get("status") in (ResidentStatus.MOVED_AWAY, ResidentStatus.DECEASED) and not moved_out:
            plan.problem(p.MISSING_VALUE, cells.column("moved_out"))
        if cells.present("notes"):
            values["notes"] = cells.text("notes", max_length=1000)
        self._tags(cells, plan)
        plan.label = " ".join(v for v in (mask_name(name), mask_id_number(number or raw_id)) if v)
        if plan.problems:
            return
        # The values exactly as records' services store them (normal forms, blind indexes).
        try:
            personal = clean_personal(
                name=name, id_number=number, phone=phone, birth_date=birth, gender=gender or "", today=self.today
            )
        except DomainError as error:
            plan.problem(p.ROW_REFUSED, "", reason=error.message)
            return
        if not cells.present("phone"):
            personal.pop("phone"), personal.pop("phone_hash")
        values.update(personal)
        plan.key = personal["id_number_hash"]

    def _house(self, cells: Cells, plan: RowPlan) -> None:
        code = cells.text("house_code", max_length=40)
        address = cells.text("house_address", max_length=200)
        found = None
        if code:
            found = self.houses_by_code.get(code.upper())
        if found is None and address:
            found = self.houses_by_address.get(normalize_address(address))
        if found is not None:
            plan.values["house_id"] = found
        elif code or address:
            column = cells.column("house_code") if code else cells.column("house_address")
            plan.problem(p.UNKNOWN_HOUSE, column, value=code or address)
        else:
            name = "house_code" if "house_code" in self.columns else "house_address"
            plan.problem(p.MISSING_VALUE, cells.column(name))

    def resolve(self, plans: list[RowPlan]) -> None:
        keyed = [plan for plan in plans if plan.key and not plan.problems]
        keys = [plan.key for plan in keyed]
        existing: dict[str, Resident] = {}
        for start in range(0, len(keys), MATCH_BATCH):
            found = _any(Resident.objects.defer("id_number"), "id_number_hash", keys[start : start + MATCH_BATCH])
            for resident in found.order_by("id_number_hash", "-id"):
                current = existing.get(resident.id_number_hash)
                # The living record wins; otherwise the latest one.
                if current is None or (
                    current.status != ResidentStatus.ACTIVE and resident.status == ResidentStatus.ACTIVE
                ):
                    existing[resident.id_number_hash] = resident
        labels = {
            "relation": dict(Relation.choices),
            "registration": dict(Registration.choices),
            "status": dict(ResidentStatus.choices),
            "gender": dict(Gender.choices),
        }

        def shown(name: str, value: Any) -> str:
            if name in self.PERSONAL:
                return self.PERSONAL[name](value or "")
            if name == "house_id":
                house = self.houses.get(value)
                return house["address"] if house else ""
            if name in labels:
                return str(labels[name].get(value, value or ""))
            return _display(value)

        carried = _carried_tags([resident.pk for resident in existing.values()])
        for plan in keyed:
            resident = existing.get(plan.key)
            wants = plan.values.get("status", ResidentStatus.ACTIVE)
            if resident is not None and resident.status != ResidentStatus.ACTIVE and wants == ResidentStatus.ACTIVE:
                resident = None  # moved back: a new living record; the old one stays as history
            if resident is None:
                plan.changes = {
                    name: ("", shown(name, plan.values[name]))
                    for name in ("house_id", "relation", "registration", "status")
                    if plan.values.get(name)
                }
                if plan.values.get("tags"):
                    plan.changes["tags"] = ("", "、".join(tag.name for tag in plan.values["tags"]))
                continue
            if resident.community_id != self.job.community_id:
                plan.problem(p.OUT_OF_SCOPE, self.key_column, what=self.key_shown(plan), where=self.where(resident))
                continue
            if resident.purged_at is not None:
                plan.problem(
                    p.ROW_REFUSED,
                    self.key_column,
                    reason=_("This record's personal data was purged; it cannot be changed."),
                )
                continue
            if resident.status != ResidentStatus.ACTIVE and plan.values.get("status") not in (None, resident.status):
                plan.problem(
                    p.ROW_REFUSED,
                    self.column("status"),
                    reason=_("This resident no longer lives here."),
                )
                continue
            plan.target = resident
            plan.changes = self.diff(resident, plan.values, self.FIELDS, shown)
            if "status" not in plan.changes:
                # A move-out date is written with the move (records' resident_move_away), not alone.
                plan.changes.pop("moved_out_on", None)
            # Tags named in the file are added; those the resident carries stay (never removed here).
            has = carried.get(resident.pk, {})
            adding = [tag for tag in plan.values.get("tags", ()) if tag.pk not in has]
            if adding:
                before = "、".join(has.values())
                plan.changes["tags"] = (before, "、".join([*has.values(), *(tag.name for tag in adding)]))
            # Records' policy decides who may change a record (a minor's needs a secretary); a row
            # that changes nothing needs no right, so the same file twice passes for everyone.
            if plan.changes and not record_access(self.job.created_by, resident).edit:
                plan.problem(p.ROW_REFUSED, self.key_column, reason=_("You may not change this record."))


def _carried_tags(resident_ids: list[int]) -> dict[int, dict[int, str]]:
    """{resident id: {tag id: name}} of the tags these residents carry."""
    carried: dict[int, dict[int, str]] = {}
    for start in range(0, len(resident_ids), MATCH_BATCH):
        rows = ResidentTag.objects.filter(resident_id__in=resident_ids[start : start + MATCH_BATCH]).values_list(
            "resident_id", "tag_id", "tag__name"
        )
        for resident_id, tag_id, name in rows.order_by("tag__sort_order", "tag_id"):
            carried.setdefault(resident_id, {})[tag_id] = name
    return carried


def _gender(value: str) -> str:
    return {Gender.MALE: "男", Gender.FEMALE: "女"}.get(value, "")


HANDLERS = {RESIDENT: ResidentHandler, HOUSE: HouseHandler, BUILDING: BuildingHandler}


def handler_for(job: ImportJob) -> KindHandler:
    return HANDLERS[job.kind](job)
