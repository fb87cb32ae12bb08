"""Residents: create, change, move away, decease, purge — never delete. Every change is history.

The ID number is validated (`governance.identity.parse_id_number`) and gives the birth date and
gender; the phone goes through the one normaliser. Both are stored encrypted with their blind
indexes (`governance.crypto`). `living_alone` and the derived tags follow every change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.crypto import blind_index, phone_blind_index
from governance.errors import Conflict, DomainError, Forbidden
from governance.identity import IdNumberError, is_valid_phone, normalize_phone, parse_id_number
from residents.models import (
    Gender,
    House,
    RecordChange,
    Registration,
    Relation,
    Resident,
    ResidentStatus,
)
from residents.policy import may_edit_in, record_access
from residents.services.history import change_values, diff, record_change, snapshot
from residents.services.tags import derived_tags_refresh

RESIDENT_FIELDS = (
    "name",
    "gender",
    "birth_date",
    "id_number",
    "phone",
    "house",
    "relation",
    "registration",
    "moved_in_on",
    "notes",
)
NAME_MAX = 50
PURGE_BATCH = 500


def id_number_lookup_hash(value: str) -> str:
    """The blind index to search by a typed ID number ("" when it cannot be one)."""
    try:
        return blind_index("id", parse_id_number(value).number)
    except IdNumberError:
        return ""


def phone_lookup_hash(value: str) -> str:
    """The blind index to search by a typed phone ("" when it cannot be one)."""
    return phone_blind_index(value)


def clean_personal(
    *, name: str, id_number: str, phone: str, birth_date: date | None, gender: str, today: date | None = None
) -> dict[str, Any]:
    """The resident's personal fields checked and completed; DomainError with a Chinese message."""
    today = today or timezone.localdate()
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_("Enter the resident's name."), code="name")
    if len(name) > NAME_MAX:
        raise DomainError(_("The name is too long (at most 50 characters)."), code="name")
    values: dict[str, Any] = {"name": name, "birth_date": birth_date, "gender": gender or ""}
    if id_number:
        try:
            parsed = parse_id_number(id_number, today=today)
        except IdNumberError as error:
            raise DomainError(error.message, code=f"id_number_{error.code}") from None
        if birth_date is not None and birth_date != parsed.birth_date:
            raise DomainError(_("The birth date differs from the one in the ID number."), code="birth_date")
        if gender and gender != parsed.gender:
            raise DomainError(_("The gender differs from the one in the ID number."), code="gender")
        values.update(
            id_number=parsed.number,
            id_number_hash=blind_index("id", parsed.number),
            birth_date=parsed.birth_date,
            gender=parsed.gender,
        )
    else:
        values.update(id_number="", id_number_hash="")
    if values["birth_date"] is not None and values["birth_date"] > today:
        raise DomainError(_("The birth date lies in the future."), code="birth_date")
    if values["gender"] not in Gender.values:
        raise DomainError(_("Choose a gender."), code="gender")
    if phone:
        normal = normalize_phone(phone)
        if not is_valid_phone(normal):
            raise DomainError(
                _("%(phone)s is not a phone number: enter 11 digits for a mobile or the area code and number.")
                % {"phone": phone},
                code="phone",
            )
        values.update(phone=normal, phone_hash=blind_index("phone", normal))
    else:
        values.update(phone="", phone_hash="")
    return values


def _copy_location(resident: Resident, house: House) -> None:
    for name in ("microgrid_id", "grid_id", "community_id", "street_id", "area_path"):
        setattr(resident, name, getattr(house, name))


def _duplicate_id() -> Conflict:
    return Conflict(_("A resident with this ID number already lives in the district."), code="duplicate_id")


def resident_create(
    *,
    house: House,
    name: str,
    gender: str = "",
    birth_date: date | None = None,
    id_number: str = "",
    phone: str = "",
    relation: str = Relation.OTHER,
    registration: str = Registration.REGISTERED,
    moved_in_on: date | None = None,
    notes: str = "",
    actor: Any = None,
) -> Resident:
    if actor is not None and not may_edit_in(actor, house.microgrid):
        raise Forbidden(_("You may not add records in this area."))
    if relation not in Relation.values or registration not in Registration.values:
        raise DomainError(_("Choose the relation and the registration from the lists."), code="choice")
    _not_in_future(moved_in_on)
    values = clean_personal(name=name, id_number=id_number, phone=phone, birth_date=birth_date, gender=gender)
    resident = Resident(
        house=house,
        relation=relation,
        registration=registration,
        moved_in_on=moved_in_on,
        notes=notes,
        **values,
    )
    _copy_location(resident, house)
    try:
        with transaction.atomic():
            resident.save(force_insert=True)
            record_change(resident, RecordChange.Action.CREATED, actor=actor)
            _house_changed([house.pk])
    except IntegrityError:
        raise _duplicate_id() from None
    resident.refresh_from_db(fields=["living_alone"])
    return resident


def _not_in_future(day: date | None) -> None:
    """A move-in date is a day that has been (a later one would block recording the move-out)."""
    if day is not None and day > timezone.localdate():
        raise DomainError(_("The date lies in the future."), code="date")


def resident_update(*, resident: Resident, actor: Any, **fields: Any) -> Resident:
    """Change the given fields; a new house moves the resident (level columns follow)."""
    unknown = set(fields) - set(RESIDENT_FIELDS)
    if unknown:
        raise ValueError(f"Not a resident field: {', '.join(sorted(unknown))}")
    if actor is not None and not record_access(actor, resident).edit:
        raise Forbidden(_("You may not change this record."))
    new_house = fields.get("house")
    if new_house is not None and actor is not None and not may_edit_in(actor, new_house.microgrid):
        raise Forbidden(_("You may not add records in this area."))
    if (
        fields.get("relation", Relation.OTHER) not in Relation.values
        or fields.get("registration", Registration.REGISTERED) not in Registration.values
    ):
        raise DomainError(_("Choose the relation and the registration from the lists."), code="choice")
    _not_in_future(fields.get("moved_in_on"))
    with transaction.atomic():
        locked = Resident.objects.select_for_update().select_related("house").get(pk=resident.pk)
        if locked.purged_at is not None:
            raise DomainError(_("This record's personal data was purged; it cannot be changed."), code="purged")
        before = snapshot(locked, fields)
        personal_keys = {"name", "id_number", "phone", "birth_date", "gender"}
        update: list[str] = []
        if personal_keys & set(fields):
            values = clean_personal(
                name=fields.get("name", locked.name),
                id_number=fields.get("id_number", locked.id_number),
                phone=fields.get("phone", locked.phone),
                birth_date=fields.get("birth_date", locked.birth_date),
                gender=fields.get("gender", locked.gender),
            )
            for name, value in values.items():
                if getattr(locked, name) != value:
                    setattr(locked, name, value)
                    update.append(name)
        for name in ("relation", "registration", "moved_in_on", "notes"):
            if name in fields and getattr(locked, name) != fields[name]:
                setattr(locked, name, fields[name])
                update.append(name)
        old_house_id = locked.house_id
        if new_house is not None and new_house.pk != old_house_id:
            locked.house = new_house
            _copy_location(locked, new_house)
            update += ["house", "microgrid", "grid", "community", "street", "area_path"]
        changes = diff(before, snapshot(locked, fields))
        if not update or not changes:
            return locked
        try:
            with transaction.atomic():
                locked.save(update_fields=[*dict.fromkeys(update), "updated_at"])
        except IntegrityError:
            raise _duplicate_id() from None
        record_change(locked, RecordChange.Action.UPDATED, actor=actor, changes=changes)
        _house_changed({old_house_id, locked.house_id})
    locked.refresh_from_db(fields=["living_alone"])
    return locked


def resident_move(*, resident: Resident, house: House, on: date, actor: Any = None, note: str = "") -> Resident:
    """Move a living resident to another house on a date: the same record, its house and move-in
    date changed, one history row on the resident and a note on both houses' histories."""
    if actor is not None and not record_access(actor, resident).edit:
        raise Forbidden(_("You may not change this record."))
    if actor is not None and not may_edit_in(actor, house.microgrid):
        raise Forbidden(_("You may not add records in this area."))
    if on > timezone.localdate():
        raise DomainError(_("The date lies in the future."), code="date")
    with transaction.atomic():
        locked = Resident.objects.select_for_update().select_related("house").get(pk=resident.pk)
        if locked.status != ResidentStatus.ACTIVE:
            raise Conflict(_("This resident no longer lives here."), code="not_active")
        if locked.purged_at is not None:
            raise DomainError(_("This record's personal data was purged; it cannot be changed."), code="purged")
        old_house = locked.house
        if house.pk == old_house.pk:
            raise DomainError(_("The resident already lives in this house."), code="same_house")
        if locked.moved_in_on and on < locked.moved_in_on:
            raise DomainError(_("The date lies before the move-in date."), code="date")
        changes = {
            "house": [old_house.address, house.address],
            "moved_in_on": [locked.moved_in_on.isoformat() if locked.moved_in_on else None, on.isoformat()],
        }
        locked.house = house
        locked.moved_in_on = on
        _copy_location(locked, house)
        locked.save(
            update_fields=[
                "house",
                "moved_in_on",
                "microgrid",
                "grid",
                "community",
                "street",
                "area_path",
                "updated_at",
            ]
        )
        record_change(locked, RecordChange.Action.UPDATED, actor=actor, changes=changes, note=note)
        # The houses' histories say a resident left or came, by record number only (no name to purge).
        record_change(
            old_house, RecordChange.Action.UPDATED, actor=actor, changes={"resident_out": [locked.pk, house.address]}
        )
        record_change(
            house, RecordChange.Action.UPDATED, actor=actor, changes={"resident_in": [old_house.address, locked.pk]}
        )
        _house_changed([old_house.pk, house.pk])
    locked.refresh_from_db(fields=["living_alone"])
    return locked


def _leave(resident: Resident, *, status: str, on: date, actor: Any, note: str) -> Resident:
    if actor is not None and not record_access(actor, resident).edit:
        raise Forbidden(_("You may not change this record."))
    if on > timezone.localdate():
        raise DomainError(_("The date lies in the future."), code="date")
    with transaction.atomic():
        locked = Resident.objects.select_for_update().get(pk=resident.pk)
        if locked.status != ResidentStatus.ACTIVE:
            raise Conflict(_("This resident no longer lives here."), code="not_active")
        if locked.moved_in_on and on < locked.moved_in_on:
            raise DomainError(_("The date lies before the move-in date."), code="date")
        locked.status = status
        locked.moved_out_on = on
        locked.save(update_fields=["status", "moved_out_on", "updated_at"])
        action = RecordChange.Action.MOVED_AWAY if status == ResidentStatus.MOVED_AWAY else RecordChange.Action.DECEASED
        record_change(
            locked,
            action,
            actor=actor,
            changes={"status": [ResidentStatus.ACTIVE, status], "moved_out_on": [None, on.isoformat()]},
            note=note,
        )
        _house_changed([locked.house_id])
    return locked


def resident_move_away(*, resident: Resident, on: date, actor: Any = None, note: str = "") -> Resident:
    return _leave(resident, status=ResidentStatus.MOVED_AWAY, on=on, actor=actor, note=note)


def resident_mark_deceased(*, resident: Resident, on: date, actor: Any = None, note: str = "") -> Resident:
    return _leave(resident, status=ResidentStatus.DECEASED, on=on, actor=actor, note=note)


def _house_changed(house_ids: Iterable[int]) -> None:
    """Who lives alone in these houses, and the derived tags of everyone in them."""
    house_ids = list(house_ids)
    living_alone_refresh(house_ids)
    derived_tags_refresh(
        resident_ids=list(Resident.objects.filter(house_id__in=house_ids).values_list("pk", flat=True))
    )


def living_alone_refresh(house_ids: Iterable[int]) -> int:
    """Set `living_alone` of the residents of these houses: the only active resident of the house."""
    house_ids = [pk for pk in set(house_ids) if pk is not None]
    if not house_ids:
        return 0
    single = (
        Resident.objects.filter(house_id__in=house_ids, status=ResidentStatus.ACTIVE)
        .values("house_id")
        .annotate(n=Count("id"))
        .filter(n=1)
        .values("house_id")
    )
    residents = Resident.objects.filter(house_id__in=house_ids)
    alone = residents.filter(status=ResidentStatus.ACTIVE, house_id__in=single)
    changed = residents.filter(living_alone=True).exclude(pk__in=alone.values("pk")).update(living_alone=False)
    return changed + alone.filter(living_alone=False).update(living_alone=True)


def residents_purge_expired(*, today: date | None = None, batch: int = PURGE_BATCH) -> int:
    """Blank the name, ID number, phone and notes of residents moved away longer than retention.

    The row stays with its status and dates, and a `purged` history entry is written. Returns how
    many were purged; at most `batch` per call (the task calls again until none are left).
    """
    days = settings.RESIDENT_MOVED_AWAY_RETENTION_DAYS
    if not days:
        return 0
    today = today or timezone.localdate()
    cutoff = today - timedelta(days=days)
    with transaction.atomic():
        due = list(
            Resident.objects.select_for_update(skip_locked=True)
            .filter(Q(status=ResidentStatus.MOVED_AWAY, purged_at__isnull=True, moved_out_on__lte=cutoff))
            .order_by("moved_out_on", "pk")
            .only("pk")[:batch]
        )
        if not due:
            return 0
        ids = [row.pk for row in due]
        Resident.objects.filter(pk__in=ids).update(
            name="",
            id_number="",
            id_number_hash="",
            phone="",
            phone_hash="",
            notes="",
            purged_at=timezone.now(),
            updated_at=timezone.now(),
        )
        RecordChange.objects.bulk_create(
            [
                RecordChange(
                    **change_values(
                        row,
                        RecordChange.Action.PURGED,
                        changes={"name": ["*", ""], "id_number": ["*", ""], "phone": ["*", ""], "notes": ["*", ""]},
                        note=f"retention {days} days",
                    )
                )
                for row in due
            ]
        )
        # Personal data in the free text of the history (old names, notes) goes with it.
        for change in RecordChange.objects.filter(record_type="resident", record_id__in=ids).exclude(
            action=RecordChange.Action.PURGED
        ):
            scrubbed = {
                field: ["*", "*"] if field in {"name", "notes"} else values
                for field, values in (change.changes or {}).items()
            }
            if scrubbed != change.changes:
                change.changes = scrubbed
                change.save(update_fields=["changes"])
    return len(ids)
