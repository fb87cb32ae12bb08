"""Everything that reads the community's records for a screen, always through the records policy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from governance.identity import normalize_id_number, normalize_phone
from residents.models import (
    Building,
    House,
    RecordChange,
    Resident,
    ResidentStatus,
    ResidentTag,
    Tag,
    normalize_address,
)
from residents.policy import records_visible_to, tag_communities
from residents.services.people import id_number_lookup_hash, phone_lookup_hash


def house_for_address(address: str) -> House | None:
    key = normalize_address(address)
    if not key:
        return None
    return House.objects.select_related("microgrid").filter(address_key=key).first()


def house_for_doorplate(code: str) -> House | None:
    return House.objects.select_related("microgrid").filter(doorplate_code=code).first()


def buildings_visible_to(user: Any) -> QuerySet[Building]:
    return records_visible_to(user, Building.objects.all())


def houses_visible_to(user: Any) -> QuerySet[House]:
    return records_visible_to(user, House.objects.all())


def residents_visible_to(user: Any) -> QuerySet[Resident]:
    return records_visible_to(user, Resident.objects.all())


_ID_LIKE = re.compile(r"\d{15}|\d{17}[\dX]")
_DIGITS = re.compile(r"[\d\-\s+()]{7,}")
SEARCH_MAX = 100


@dataclass(frozen=True)
class SearchResult:
    query: str
    kind: str  # "id_number", "phone", "text" or "" (nothing typed)
    residents: QuerySet[Resident]
    houses: QuerySet[House]
    buildings: QuerySet[Building]


def records_search(user: Any, query: str) -> SearchResult:
    """Residents, houses and buildings the user may see that match what was typed.

    An ID number or a phone is looked up exactly through its blind index (never by decrypting);
    other text matches names, addresses, doorplate and building codes.
    """
    query = " ".join((query or "").split())[:SEARCH_MAX]
    residents = residents_visible_to(user).select_related("house").order_by("house__address", "id")
    houses = houses_visible_to(user).order_by("address", "id")
    buildings = buildings_visible_to(user).order_by("code", "id")
    if not query:
        return SearchResult(query, "", residents.none(), houses.none(), buildings)
    compact = normalize_id_number(query)
    if _ID_LIKE.fullmatch(compact):
        digest = id_number_lookup_hash(compact)
        return SearchResult(
            query, "id_number", residents.filter(id_number_hash=digest) if digest else residents.none(),
            houses.none(), buildings.none(),
        )  # fmt: skip
    if _DIGITS.fullmatch(query) and sum(ch.isdigit() for ch in query) >= 7:
        digest = phone_lookup_hash(normalize_phone(query))
        by_phone = residents.filter(phone_hash=digest) if digest else residents.none()
        by_doorplate = houses.filter(doorplate_code=query)
        return SearchResult(query, "phone", by_phone, by_doorplate, buildings.none())
    key = normalize_address(query)
    house_q = Q(doorplate_code=query) | Q(address__icontains=query)
    if key:
        house_q |= Q(address_key__contains=key)
    return SearchResult(
        query,
        "text",
        residents.filter(Q(name__icontains=query) | Q(house__address__icontains=query)),
        houses.filter(house_q),
        buildings.filter(Q(code=query) | Q(name__icontains=query) | Q(address__icontains=query)),
    )


def house_residents(user: Any, house: House) -> QuerySet[Resident]:
    """The residents of a house the user may see (minors only for a secretary or higher), living first."""
    return (
        residents_visible_to(user)
        .filter(house=house)
        .prefetch_related("tags__tag")
        .order_by("status", "relation", "birth_date", "id")
    )


def building_houses(user: Any, building: Building) -> QuerySet[House]:
    """The building's houses the user may see, each with how many living residents the user may see
    (a minor hidden from them is not counted either)."""
    visible = residents_visible_to(user).filter(status=ResidentStatus.ACTIVE).values("pk")
    active = Count("residents", filter=Q(residents__in=visible))
    return houses_visible_to(user).filter(building=building).annotate(active=active).order_by("unit", "floor", "room")


def resident_tags(resident: Resident) -> QuerySet[ResidentTag]:
    return resident.tags.select_related("tag").order_by("tag__sort_order", "tag__code")


def record_history(record: Any, limit: int = 50) -> QuerySet[RecordChange]:
    """The newest changes of one building, house or resident."""
    return (
        RecordChange.objects.filter(record_type=record._meta.model_name, record_id=record.pk)
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )


def records_summary(user: Any) -> dict[str, int]:
    """The counts on top of the records page: buildings, houses, residents living here."""
    return {
        "buildings": buildings_visible_to(user).count(),
        "houses": houses_visible_to(user).count(),
        "residents": residents_visible_to(user).filter(status=ResidentStatus.ACTIVE).count(),
    }


def tags_visible_to(user: Any) -> QuerySet[Tag]:
    """The district-wide tags and the own tags of the communities the user sees (`tag_communities`)."""
    communities = [area.pk for area in tag_communities(user)]
    if not communities:
        return Tag.objects.none()
    return Tag.objects.filter(Q(community__isnull=True) | Q(community_id__in=communities))


def tags_with_counts(user: Any) -> list[tuple[Tag, int]]:
    """Each visible tag with how many living residents the user may see carry it (two queries)."""
    tags = list(
        tags_visible_to(user)
        .select_related("community")
        .order_by("community__path", "-is_active", "sort_order", "code")
    )
    counts = dict(
        ResidentTag.objects.filter(
            tag__in=[tag.pk for tag in tags],
            resident__in=residents_visible_to(user).filter(status=ResidentStatus.ACTIVE).values("pk"),
        )
        .values_list("tag")
        .annotate(n=Count("id"))
    )
    return [(tag, counts.get(tag.pk, 0)) for tag in tags]
