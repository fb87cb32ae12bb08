"""Buildings and houses: create and change them, with their level columns and change history."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from governance.errors import Conflict, DomainError, Forbidden
from grids.models import Area, AreaLevel
from residents.models import Building, House, HouseUse, RecordChange, normalize_address
from residents.policy import may_edit_in, record_access
from residents.services.history import diff, record_change, snapshot

HOUSE_FIELDS = ("address", "doorplate_code", "building", "unit", "floor", "room", "use", "notes", "lon", "lat")
BUILDING_FIELDS = ("code", "name", "address", "units", "floors", "lon", "lat", "notes")


def _check_microgrid(area: Area) -> None:
    if area.level != AreaLevel.MICROGRID:
        raise DomainError(_("A record belongs to a micro-grid."), code="not_microgrid")


def _check_actor(actor: Any, *, area: Area | None = None, record: Any = None) -> None:
    """Services called for a person enforce the records policy; system callers pass no actor."""
    if actor is None:
        return
    if record is not None and not record_access(actor, record).edit:
        raise Forbidden(_("You may not change this record."))
    if area is not None and not may_edit_in(actor, area):
        raise Forbidden(_("You may not add records in this area."))


def house_create(
    *,
    address: str,
    microgrid: Area,
    doorplate_code: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
    building: Building | None = None,
    unit: int | None = None,
    floor: int | None = None,
    room: str = "",
    use: str = HouseUse.OWNER_OCCUPIED,
    notes: str = "",
    actor: Any = None,
) -> House:
    if microgrid.level != AreaLevel.MICROGRID:
        raise ValueError("A house belongs to a micro-grid.")
    _check_actor(actor, area=microgrid)
    address = address.strip()
    if not normalize_address(address):
        raise DomainError(_("Enter the house's address."), code="address")
    if building is not None and building.microgrid_id != microgrid.pk:
        raise DomainError(_("The building lies in another micro-grid."), code="building")
    house = House(
        address=address,
        address_key=normalize_address(address),
        doorplate_code=doorplate_code or None,
        lon=lon,
        lat=lat,
        building=building,
        unit=unit,
        floor=floor,
        room=room,
        use=use,
        notes=notes,
    )
    house.locate(microgrid)
    try:
        with transaction.atomic():
            house.save(force_insert=True)
            record_change(house, RecordChange.Action.CREATED, actor=actor)
    except IntegrityError:
        raise Conflict(_("A house with this address or doorplate code already exists."), code="duplicate") from None
    return house


def house_update(*, house: House, actor: Any, **fields: Any) -> House:
    """Change the given fields of a house (address, doorplate, building, unit, floor, room, use …)."""
    unknown = set(fields) - set(HOUSE_FIELDS)
    if unknown:
        raise ValueError(f"Not a house field: {', '.join(sorted(unknown))}")
    _check_actor(actor, record=house)
    with transaction.atomic():
        locked = House.objects.select_for_update().get(pk=house.pk)
        before = snapshot(locked, fields)
        for name, value in fields.items():
            setattr(locked, name, value)
        if "address" in fields:
            locked.address = locked.address.strip()
            locked.address_key = normalize_address(locked.address)
            if not locked.address_key:
                raise DomainError(_("Enter the house's address."), code="address")
        if "doorplate_code" in fields:
            locked.doorplate_code = locked.doorplate_code or None
        if locked.building_id is not None and locked.building.microgrid_id != locked.microgrid_id:
            raise DomainError(_("The building lies in another micro-grid."), code="building")
        changes = diff(before, snapshot(locked, fields))
        if not changes:
            return locked
        update = [*fields, *(["address_key"] if "address" in fields else [])]
        try:
            with transaction.atomic():
                locked.save(update_fields=update)
        except IntegrityError:
            raise Conflict(_("A house with this address or doorplate code already exists."), code="duplicate") from None
        record_change(locked, RecordChange.Action.UPDATED, actor=actor, changes=changes)
    return locked


def building_create(
    *,
    code: str,
    name: str,
    address: str,
    microgrid: Area,
    units: int = 1,
    floors: int = 1,
    lon: float | None = None,
    lat: float | None = None,
    notes: str = "",
    actor: Any = None,
) -> Building:
    _check_microgrid(microgrid)
    _check_actor(actor, area=microgrid)
    if units < 1 or floors < 1:
        raise DomainError(_("A building has at least one unit and one floor."), code="size")
    building = Building(
        code=code.strip(),
        name=name.strip(),
        address=address.strip(),
        units=units,
        floors=floors,
        lon=lon,
        lat=lat,
        notes=notes,
    )
    building.locate(microgrid)
    try:
        with transaction.atomic():
            building.save(force_insert=True)
            record_change(building, RecordChange.Action.CREATED, actor=actor)
    except IntegrityError:
        raise Conflict(_("A building with this code already exists."), code="duplicate") from None
    return building


def building_update(*, building: Building, actor: Any, **fields: Any) -> Building:
    unknown = set(fields) - set(BUILDING_FIELDS)
    if unknown:
        raise ValueError(f"Not a building field: {', '.join(sorted(unknown))}")
    _check_actor(actor, record=building)
    if ("units" in fields and fields["units"] < 1) or ("floors" in fields and fields["floors"] < 1):
        raise DomainError(_("A building has at least one unit and one floor."), code="size")
    with transaction.atomic():
        locked = Building.objects.select_for_update().get(pk=building.pk)
        before = snapshot(locked, fields)
        for name, value in fields.items():
            setattr(locked, name, value.strip() if isinstance(value, str) and name != "notes" else value)
        changes = diff(before, snapshot(locked, fields))
        if not changes:
            return locked
        try:
            with transaction.atomic():
                locked.save(update_fields=[*fields, "updated_at"])
        except IntegrityError:
            raise Conflict(_("A building with this code already exists."), code="duplicate") from None
        record_change(locked, RecordChange.Action.UPDATED, actor=actor, changes=changes)
    return locked
