"""Tags: the district-wide list, a community's own, a resident's manual tags and the derived ones.

Derived tags follow the data: 60岁以上 and 80岁以上 from the birth date (refreshed daily, people
age), 独居 from `Resident.living_alone`. Only active residents carry them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.errors import Conflict, DomainError, Forbidden
from residents.models import RecordChange, Resident, ResidentStatus, ResidentTag, Tag, TagKind
from residents.services.history import record_change

# The district-wide tags (the same list as migration 0003 seeds): code, name, kind, sensitive, order.
DISTRICT_TAGS = [
    ("elderly_60", "60岁以上老人", TagKind.DERIVED, False, 10),
    ("elderly_80", "80岁以上高龄老人", TagKind.DERIVED, False, 11),
    ("living_alone", "独居", TagKind.DERIVED, False, 12),
    ("veteran", "退役军人", TagKind.MANUAL, False, 20),
    ("unemployed", "失业人员", TagKind.MANUAL, False, 21),
    ("disabled", "残疾人", TagKind.MANUAL, True, 22),
    ("dibao", "低保", TagKind.MANUAL, True, 23),
    ("party_member", "党员", TagKind.MANUAL, False, 24),
    ("special_care", "特殊人群", TagKind.MANUAL, True, 30),
    ("left_behind_child", "留守儿童", TagKind.MANUAL, True, 31),
    ("serious_illness", "大病患者", TagKind.MANUAL, True, 32),
    ("empty_nest", "空巢老人", TagKind.MANUAL, False, 33),
]
ELDERLY_AGES = {"elderly_60": 60, "elderly_80": 80}
LIVING_ALONE = "living_alone"
DERIVED_CODES = (*ELDERLY_AGES, LIVING_ALONE)
BATCH = 5000


def district_tags_ensure() -> dict[str, Tag]:
    """The district-wide tags by code, created when missing (idempotent; tests and the demo)."""
    tags = {tag.code: tag for tag in Tag.objects.filter(community__isnull=True)}
    for code, name, kind, sensitive, order in DISTRICT_TAGS:
        if code not in tags:
            tags[code] = Tag.objects.create(code=code, name=name, kind=kind, sensitive=sensitive, sort_order=order)
    return tags


def years_before(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _should_have(code: str, today: date) -> Q:
    active = Q(status=ResidentStatus.ACTIVE)
    if code in ELDERLY_AGES:
        return active & Q(birth_date__lte=years_before(today, ELDERLY_AGES[code]))
    return active & Q(living_alone=True)


def derived_tags_refresh(*, resident_ids: Iterable[int] | None = None, today: date | None = None) -> int:
    """Add and remove the derived tags of these residents (all when None); returns rows changed."""
    today = today or timezone.localdate()
    tags = district_tags_ensure()
    residents = Resident.objects.all()
    if resident_ids is not None:
        residents = residents.filter(pk__in=list(resident_ids))
    changed = 0
    for code in DERIVED_CODES:
        tag = tags[code]
        should = residents.filter(_should_have(code, today))
        stale = ResidentTag.objects.filter(tag=tag, resident__in=residents.exclude(_should_have(code, today)))
        changed += stale.delete()[0]
        missing = should.exclude(tags__tag=tag).values_list("pk", "birth_date")
        rows = []
        for pk, born in missing.iterator(chunk_size=BATCH):
            since = None
            if code in ELDERLY_AGES and born is not None:
                since = years_before(born, -ELDERLY_AGES[code])
            rows.append(ResidentTag(resident_id=pk, tag=tag, since=since))
        ResidentTag.objects.bulk_create(rows, batch_size=BATCH, ignore_conflicts=True)
        changed += len(rows)
    return changed


def tag_create(*, code: str, name: str, community: Any, description: str = "", actor: Any = None) -> Tag:
    """A community's own (manual) tag."""
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise DomainError(_("A tag needs a code and a name."), code="tag")
    try:
        with transaction.atomic():
            return Tag.objects.create(
                code=code, name=name, community=community, kind=TagKind.MANUAL, description=description
            )
    except IntegrityError:
        raise Conflict(_("A tag with this code already exists."), code="duplicate") from None


def resident_tag_add(
    *, resident: Resident, tag: Tag, actor: Any = None, since: date | None = None, note: str = ""
) -> ResidentTag:
    from residents.policy import record_access

    if actor is not None and not record_access(actor, resident).edit:
        raise Forbidden(_("You may not change this record."))
    if tag.kind == TagKind.DERIVED:
        raise DomainError(_("This tag follows the record's data and cannot be set by hand."), code="derived")
    if tag.community_id is not None and tag.community_id != resident.community_id:
        raise DomainError(_("This tag belongs to another community."), code="tag_community")
    with transaction.atomic():
        row, created = ResidentTag.objects.get_or_create(
            resident=resident, tag=tag, defaults={"since": since, "note": note[:200]}
        )
        if created:
            record_change(resident, RecordChange.Action.TAG_ADDED, actor=actor, changes={"tag": [None, tag.name]})
    return row


def resident_tag_remove(*, resident: Resident, tag: Tag, actor: Any = None) -> bool:
    from residents.policy import record_access

    if actor is not None and not record_access(actor, resident).edit:
        raise Forbidden(_("You may not change this record."))
    if tag.kind == TagKind.DERIVED:
        raise DomainError(_("This tag follows the record's data and cannot be set by hand."), code="derived")
    with transaction.atomic():
        deleted = ResidentTag.objects.filter(resident=resident, tag=tag).delete()[0]
        if deleted:
            record_change(resident, RecordChange.Action.TAG_REMOVED, actor=actor, changes={"tag": [tag.name, None]})
    return bool(deleted)
