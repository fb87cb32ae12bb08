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
# What separates tag names in one cell of an import file ("退役军人;低保").
TAG_SEPARATORS = ";；,，、|"


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


def _tag_name_taken(name: str, community: Any, exclude: int | None = None) -> bool:
    """A tag name is read back from import files: one name, one tag, among the district's and the community's."""
    same = Tag.objects.filter(Q(community__isnull=True) | Q(community=community), name__iexact=name)
    if exclude is not None:
        same = same.exclude(pk=exclude)
    return same.exists()


def tag_create(
    *, name: str, community: Any, code: str = "", description: str = "", sensitive: bool = False, actor: Any = None
) -> Tag:
    """A manual tag: a community's own, or (community None, administrators) a district-wide one.

    The code defaults to the name; names are unique among the district-wide tags and the community's
    own, so an import's "退役军人;低保" finds exactly one tag for each name.
    """
    from residents.policy import may_manage_tags

    if actor is not None and not may_manage_tags(actor, community):
        raise Forbidden(_("You may not manage this community's tags."))
    name = " ".join((name or "").split())
    code = (code or name).strip()[:40]
    if not name:
        raise DomainError(_("Enter the tag's name."), code="tag")
    if len(name) > 50:
        raise DomainError(_("The tag's name is too long (at most 50 characters)."), code="tag")
    if any(ch in name for ch in TAG_SEPARATORS):
        raise DomainError(_("A tag's name cannot hold ; , 、 or |: import files separate tags with them."), code="tag")
    if _tag_name_taken(name, community):
        raise Conflict(_("A tag named %(name)s already exists.") % {"name": name}, code="duplicate")
    try:
        with transaction.atomic():
            tag = Tag.objects.create(
                code=code,
                name=name,
                community=community,
                kind=TagKind.MANUAL,
                description=(description or "").strip()[:200],
                sensitive=sensitive,
            )
            record_change(tag, RecordChange.Action.CREATED, actor=actor, changes={"name": [None, name]})
    except IntegrityError:
        raise Conflict(_("A tag with this code already exists."), code="duplicate") from None
    return tag


def tag_set_active(*, tag: Tag, active: bool, actor: Any = None, note: str = "") -> Tag:
    """Retire a manual tag (no new residents get it; those who carry it keep it) or bring it back."""
    from residents.policy import may_manage_tags

    if actor is not None and not may_manage_tags(actor, tag.community):
        if tag.community_id is None:
            raise Forbidden(_("District-wide tags are kept by the district; a community cannot change them."))
        raise Forbidden(_("You may not manage this community's tags."))
    if tag.kind == TagKind.DERIVED:
        raise DomainError(_("This tag follows the record's data and cannot be retired."), code="derived")
    with transaction.atomic():
        locked = Tag.objects.select_for_update().get(pk=tag.pk)
        if locked.is_active == active:
            return locked
        if active and _tag_name_taken(locked.name, locked.community, exclude=locked.pk):
            raise Conflict(_("A tag named %(name)s already exists.") % {"name": locked.name}, code="duplicate")
        locked.is_active = active
        locked.save(update_fields=["is_active"])
        record_change(
            locked, RecordChange.Action.UPDATED, actor=actor, changes={"is_active": [not active, active]}, note=note
        )
    return locked


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
    if not tag.is_active:
        raise DomainError(_("This tag was retired; it is no longer given."), code="tag_retired")
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


def residents_tags_add(*, rows: Iterable[tuple[int, Tag]], actor: Any = None, note: str = "") -> int:
    """Give many residents manual tags at once (the import): (resident id, tag) pairs.

    The one bulk writer of `ResidentTag` besides the derived tags: pairs already on record are
    skipped, each new one gets its `tag_added` history row. The caller checked access and the tags
    (manual, active, the residents' community or district-wide). Returns how many were added.
    """
    from residents.services.history import change_values

    wanted = {(resident_id, tag.pk): tag for resident_id, tag in rows}
    if not wanted:
        return 0
    resident_ids = sorted({resident_id for resident_id, _tag_id in wanted})
    present = set()
    for start in range(0, len(resident_ids), BATCH):
        present.update(
            ResidentTag.objects.filter(resident_id__in=resident_ids[start : start + BATCH]).values_list(
                "resident_id", "tag_id"
            )
        )
    new = [(key, tag) for key, tag in wanted.items() if key not in present]
    if not new:
        return 0
    ResidentTag.objects.bulk_create(
        [ResidentTag(resident_id=resident_id, tag=tag) for (resident_id, _tag_id), tag in new], batch_size=BATCH
    )
    RecordChange.objects.bulk_create(
        [
            RecordChange(
                **change_values(
                    Resident(pk=resident_id),
                    RecordChange.Action.TAG_ADDED,
                    actor=actor,
                    changes={"tag": [None, tag.name]},
                    note=note,
                )
            )
            for (resident_id, _tag_id), tag in new
        ],
        batch_size=BATCH,
    )
    return len(new)
