"""Writing a checked file: creates in bulk, changes through records' services, all in the caller's transaction.

New records are built with records' own pieces — the values `clean_personal` returned during the
check (normal forms, blind indexes; the encrypted fields encrypt on save), the level columns of
their micro-grid or house, one `RecordChange` each (action `imported`, `change_values`), then
`living_alone_refresh` and `derived_tags_refresh` — and inserted in batches, because a service
call per row (ten queries) cannot write 100,000 rows in a minute. Changes to records on record go
through `building_update`, `house_update`, `resident_update`, `resident_move_away` and
`resident_mark_deceased`, one call per changed row, which check access and write the history.
Anything a service refuses raises `ImportRefused`, and the caller's transaction rolls back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.errors import DomainError
from residents.imports.copyin import insert
from residents.imports.engine import ImportRefused, RowPlan
from residents.imports.mapping import BUILDING, HOUSE
from residents.models import (
    Building,
    House,
    HouseUse,
    RecordChange,
    Registration,
    Relation,
    Resident,
    ResidentStatus,
    ResidentTag,
)
from residents.policy import may_edit_in
from residents.services import (
    building_update,
    derived_tags_refresh,
    house_update,
    living_alone_refresh,
    resident_mark_deceased,
    resident_move_away,
    resident_update,
    residents_tags_add,
)
from residents.services.history import change_values
from residents.services.tags import ELDERLY_AGES, LIVING_ALONE, district_tags_ensure, years_before

# Rows per INSERT, and per refresh of derived values.
WRITE_BATCH = 5000
REFRESH_BATCH = 5000


def write(handler: Any, plans: list[RowPlan], *, actor: Any, progress: Callable | None = None) -> dict[str, int]:
    """Write the plans (creates and updates); returns {"created": n, "updated": n}."""
    job = handler.job
    if actor is not None and not may_edit_in(actor, job.community):
        raise ImportRefused(_("You may not add records in this area."))
    creates = [plan for plan in plans if plan.target is None]
    updates = [plan for plan in plans if plan.target is not None]
    note = (_("Imported from %(file)s") % {"file": job.file_name})[:200]
    total = len(plans)
    state = {"done": 0}

    def advance(n: int) -> None:
        state["done"] += n
        if progress:
            progress("writing", state["done"], total)

    try:
        with transaction.atomic():
            if handler.kind == BUILDING:
                _create_buildings(handler, creates, actor=actor, note=note, advance=advance)
                _update(updates, advance, lambda plan: _building_update(plan, actor))
            elif handler.kind == HOUSE:
                _create_houses(handler, creates, actor=actor, note=note, advance=advance)
                _update(updates, advance, lambda plan: _house_update(plan, actor))
            else:
                created = _create_residents(handler, creates, actor=actor, note=note, advance=advance)
                _update(updates, advance, lambda plan: _resident_update(plan, actor))
                tagged = [(pk, tag) for plan, pk in created for tag in plan.values.get("tags", ())]
                tagged += [
                    (plan.target.pk, tag) for plan in updates if "tags" in plan.changes for tag in plan.values["tags"]
                ]
                residents_tags_add(rows=tagged, actor=actor, note=note)
    except IntegrityError:
        raise ImportRefused(
            _("A record of the file was created or changed by someone else meanwhile; check the file again.")
        ) from None
    return {"created": len(creates), "updated": len(updates)}


def _history(objects: list[Any], *, actor: Any, note: str) -> None:
    insert(
        [RecordChange(**change_values(obj, RecordChange.Action.IMPORTED, actor=actor, note=note)) for obj in objects]
    )


def _batches(plans: list[RowPlan]):
    for start in range(0, len(plans), WRITE_BATCH):
        yield plans[start : start + WRITE_BATCH]


def _update(plans: list[RowPlan], advance: Callable[[int], None], one: Callable[[RowPlan], None]) -> None:
    for done, plan in enumerate(plans, start=1):
        try:
            one(plan)
        except DomainError as error:
            raise ImportRefused(_("Row %(row)d: %(reason)s") % {"row": plan.row, "reason": error.message}) from None
        if done % 200 == 0:
            advance(200)
    advance(len(plans) % 200)


# --- Buildings ---------------------------------------------------------------------------------------


def _create_buildings(handler: Any, plans: list[RowPlan], *, actor: Any, note: str, advance: Callable) -> None:
    levels = handler.community.levels
    for batch in _batches(plans):
        objects = []
        for plan in batch:
            values = plan.values
            objects.append(
                Building(
                    code=values["code"],
                    name=values["name"],
                    address=values.get("address") or values["name"],
                    units=values.get("units", 1),
                    floors=values.get("floors", 1),
                    **levels[values["microgrid_id"]],
                )
            )
        insert(objects)
        _history(objects, actor=actor, note=note)
        advance(len(batch))


def _building_update(plan: RowPlan, actor: Any) -> None:
    fields = {name: plan.values[name] for name in plan.changes}
    building_update(building=plan.target, actor=actor, **fields)


# --- Houses ------------------------------------------------------------------------------------------


def _create_houses(handler: Any, plans: list[RowPlan], *, actor: Any, note: str, advance: Callable) -> None:
    levels = handler.community.levels
    for batch in _batches(plans):
        objects = []
        for plan in batch:
            values = plan.values
            objects.append(
                House(
                    address=values["address"],
                    address_key=values["address_key"],
                    doorplate_code=values.get("doorplate_code") or None,
                    building_id=values.get("building_id"),
                    unit=values.get("unit"),
                    floor=values.get("floor"),
                    room=values.get("room", ""),
                    use=values.get("use", HouseUse.OWNER_OCCUPIED),
                    **levels[values["microgrid_id"]],
                )
            )
        insert(objects)
        _history(objects, actor=actor, note=note)
        advance(len(batch))


def _house_update(plan: RowPlan, actor: Any) -> None:
    fields: dict[str, Any] = {}
    for name in plan.changes:
        if name == "building_id":
            fields["building"] = Building.objects.get(pk=plan.values["building_id"])
        else:
            fields[name] = plan.values[name]
    house_update(house=plan.target, actor=actor, **fields)


# --- Residents ---------------------------------------------------------------------------------------

RESIDENT_VALUES = ("name", "gender", "birth_date", "id_number", "id_number_hash", "phone", "phone_hash")


def _create_residents(
    handler: Any, plans: list[RowPlan], *, actor: Any, note: str, advance: Callable
) -> list[tuple[RowPlan, int]]:
    """Insert the new residents; returns each plan with the id of its resident."""
    houses = handler.houses
    created: list[int] = []
    made: list[tuple[RowPlan, int]] = []
    house_ids = sorted({plan.values["house_id"] for plan in plans})
    # Inserted with `living_alone` as it will be: records' rule over the residents on record and
    # these. Set afterwards, each new row would be written twice, its every index entry too.
    alone, lived_in = _alone_after(house_ids, plans)
    for batch in _batches(plans):
        objects = []
        for plan in batch:
            values = plan.values
            house = houses[values["house_id"]]
            objects.append(
                Resident(
                    house_id=house["pk"],
                    relation=values.get("relation", Relation.OTHER),
                    registration=values.get("registration", Registration.REGISTERED),
                    moved_in_on=values.get("moved_in_on"),
                    moved_out_on=values.get("moved_out_on"),
                    status=values.get("status", ResidentStatus.ACTIVE),
                    living_alone=values.get("status", ResidentStatus.ACTIVE) == ResidentStatus.ACTIVE
                    and values["house_id"] in alone,
                    notes=values.get("notes", ""),
                    microgrid_id=house["microgrid_id"],
                    grid_id=house["grid_id"],
                    community_id=house["community_id"],
                    street_id=house["street_id"],
                    area_path=house["area_path"],
                    **{name: values.get(name, "") for name in RESIDENT_VALUES},
                )
            )
        insert(objects)
        _history(objects, actor=actor, note=note)
        created += [obj.pk for obj in objects]
        made += [(plan, obj.pk) for plan, obj in zip(batch, objects, strict=True)]
        advance(len(batch))
    # The active residents already on record in these houses may have stopped living alone.
    for start in range(0, len(lived_in), REFRESH_BATCH):
        _living_alone(lived_in[start : start + REFRESH_BATCH])
    _derived_tags(created, house_ids)
    return made


def _alone_after(house_ids: list[int], plans: list[RowPlan]) -> tuple[set[int], list[int]]:
    """The houses that will have exactly one active resident once `plans` are inserted (those on
    record counted in the database, the new ones in the plans), and the houses that have active
    residents on record (theirs is the only `living_alone` the insert can change)."""
    active = dict.fromkeys(house_ids, 0)
    for start in range(0, len(house_ids), REFRESH_BATCH):
        on_record = (
            Resident.objects.filter(house_id__in=house_ids[start : start + REFRESH_BATCH], status=ResidentStatus.ACTIVE)
            .values("house_id")
            .annotate(n=Count("pk"))
            .values_list("house_id", "n")
        )
        for house_id, n in on_record:
            active[house_id] += n
    lived_in = [house_id for house_id, n in active.items() if n]
    for plan in plans:
        if plan.values.get("status", ResidentStatus.ACTIVE) == ResidentStatus.ACTIVE:
            active[plan.values["house_id"]] += 1
    return {house_id for house_id, n in active.items() if n == 1}, lived_in


def _living_alone(house_ids: list[int]) -> None:
    """Records' `living_alone` rule (the only active resident of the house) for these houses.

    On PostgreSQL as two statements over `= ANY(array)`, which stay fast for thousands of houses;
    elsewhere records' own `living_alone_refresh`.
    """
    if connection.vendor != "postgresql":
        living_alone_refresh(house_ids)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT house_id FROM residents_resident WHERE house_id = ANY(%s) AND status = %s "
            "GROUP BY house_id HAVING count(*) = 1",
            [house_ids, ResidentStatus.ACTIVE],
        )
        alone = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "UPDATE residents_resident SET living_alone = (status = %s AND house_id = ANY(%s)) "
            "WHERE house_id = ANY(%s) AND living_alone <> (status = %s AND house_id = ANY(%s))",
            [ResidentStatus.ACTIVE, alone, house_ids, ResidentStatus.ACTIVE, alone],
        )


def _derived_tags(created: list[int], house_ids: list[int]) -> None:
    """The derived tags (60+, 80+, living alone) after a bulk create, by records' rules.

    The new residents have no tag yet, so theirs are only added, in bulk, from records' own
    definitions (`ELDERLY_AGES`, `years_before`, the `living_alone` flag `living_alone_refresh`
    just set). Residents already on record in the touched houses may have gained or lost
    "living alone": those go through records' `derived_tags_refresh`.
    """
    today = timezone.localdate()
    tags = district_tags_ensure()
    new = set(created)
    rows: list[ResidentTag] = []
    others: list[int] = []
    for start in range(0, len(house_ids), REFRESH_BATCH):
        residents = Resident.objects.filter(
            house_id__in=house_ids[start : start + REFRESH_BATCH], status=ResidentStatus.ACTIVE
        ).values_list("pk", "birth_date", "living_alone")
        for pk, born, alone in residents.iterator(chunk_size=REFRESH_BATCH):
            if pk not in new:
                others.append(pk)
                continue
            for code, age in ELDERLY_AGES.items():
                if born is not None and born <= years_before(today, age):
                    rows.append(ResidentTag(resident_id=pk, tag=tags[code], since=years_before(born, -age)))
            if alone:
                rows.append(ResidentTag(resident_id=pk, tag=tags[LIVING_ALONE]))
    insert(rows)
    for start in range(0, len(others), REFRESH_BATCH):
        derived_tags_refresh(resident_ids=others[start : start + REFRESH_BATCH], today=today)


def _resident_update(plan: RowPlan, actor: Any) -> None:
    resident = plan.target
    fields: dict[str, Any] = {}
    for name in plan.changes:
        if name in ("status", "moved_out_on", "tags"):  # tags: written after, in bulk
            continue
        if name == "house_id":
            fields["house"] = House.objects.get(pk=plan.values["house_id"])
        else:
            fields[name] = plan.values[name]
    if fields:
        resident = resident_update(resident=resident, actor=actor, **fields)
    status = plan.values.get("status")
    if "status" in plan.changes and status == ResidentStatus.MOVED_AWAY:
        resident_move_away(resident=resident, on=plan.values["moved_out_on"], actor=actor)
    elif "status" in plan.changes and status == ResidentStatus.DECEASED:
        resident_mark_deceased(resident=resident, on=plan.values["moved_out_on"], actor=actor)
