"""The demo records: the demo accounts' community is filled, ID numbers are valid, the pyramid is old."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from governance.identity import is_valid_id_number
from governance.models import StaffPost
from residents.models import Building, House, PartyHousehold, Resident, ResidentTag
from residents.policy import records_visible_to
from residents.services.tags import derived_tags_refresh, years_before

SCALE = 0.02


@pytest.fixture
def seeded(db):
    call_command("seed_demo", scale=SCALE, stdout=StringIO())


def test_the_demo_community_has_houses_residents_tags_and_party_households(seeded):
    secretary = StaffPost.objects.get(user__username="secretary").user
    residents = records_visible_to(secretary, Resident.objects.all())
    houses = records_visible_to(secretary, House.objects.all())
    assert houses.count() == round(4600 * SCALE)
    assert residents.count() > houses.count()
    assert Building.objects.filter(community_id=residents.first().community_id).count() >= 3
    elderly = residents.filter(birth_date__lte=years_before(timezone.localdate(), 60)).count()
    assert 0.25 < elderly / residents.count() < 0.6  # an old neighbourhood
    assert residents.filter(living_alone=True).exists()
    assert (
        ResidentTag.objects.filter(resident__in=residents, tag__code="elderly_60").count()
        == residents.filter(birth_date__lte=years_before(timezone.localdate(), 60)).count()
    )
    assert derived_tags_refresh() == 0  # the demo's derived tags are the ones the service keeps
    assert ResidentTag.objects.filter(resident__in=residents, tag__code="party_member").exists()
    assert PartyHousehold.objects.filter(community_id=residents.first().community_id).exists()
    assert all(is_valid_id_number(r.id_number) for r in residents[:200])


def test_every_other_community_has_some_records_and_reset_removes_them(seeded):
    communities = set(Resident.objects.values_list("community_id", flat=True))
    assert len(communities) > 1
    before = Resident.objects.count()
    # A mark on every old row (ids cannot tell: SQLite gives an emptied table's ids out again).
    Resident.objects.update(notes="重置前")
    call_command("seed_demo", reset=True, scale=SCALE, stdout=StringIO())
    assert Resident.objects.count() == before  # the same seed: the same records
    assert not Resident.objects.filter(notes="重置前").exists()  # the old ones are gone


def test_residents_file_some_demo_petitions_from_home_so_the_finder_finds_them(seeded):
    """Where records are kept, residents' own demo petitions may name their house (and their phone):
    "has an open petition" then finds people in the demo, not nobody."""
    from appeals.demo import RESIDENT_CHANNELS
    from appeals.models import OPEN_STATUSES, Petition
    from residents.finder import FinderQuery, finder_residents

    kept = set(House.objects.values_list("microgrid_id", flat=True))
    addresses = set(House.objects.values_list("address", flat=True))
    theirs = list(Petition.objects.filter(channel__in=RESIDENT_CHANNELS, microgrid_id__in=kept))
    from_home = [p for p in theirs if p.address in addresses]
    assert from_home and len(from_home) < len(theirs)
    district = StaffPost.objects.get(user__username="district").user
    found = set(finder_residents(district, FinderQuery(open_petition=True)).values_list("house__address", flat=True))
    assert {p.address for p in from_home if p.status in OPEN_STATUSES} <= found


def test_a_residents_petition_names_their_home_in_about_the_set_share():
    import random

    from appeals.demo import FILED_FROM_HOME_SHARE, _filed_by_resident
    from appeals.models import Channel, Petition

    contacts = {7: [("幸福路1号1单元101", "13800138000"), ("幸福路1号1单元102", "13800138001")]}
    rng = random.Random(1)
    petitions = [
        Petition(channel=Channel.MOBILE, microgrid_id=7, address="幸福里", contact_phone="") for _ in range(400)
    ]
    for petition in petitions:
        _filed_by_resident(petition, contacts, rng)
    homes = [p for p in petitions if p.address != "幸福里"]
    assert abs(len(homes) / 400 - FILED_FROM_HOME_SHARE) < 0.1
    assert {p.address for p in homes} == {address for address, _phone in contacts[7]}
    assert 0.35 < sum(1 for p in homes if p.contact_phone) / len(homes) < 0.65
    assert all(p.contact_phone == "" for p in petitions if p.address == "幸福里")
    for other in (
        Petition(channel=Channel.STAFF, microgrid_id=7, address="x"),
        Petition(channel=Channel.MOBILE, microgrid_id=8, address="x"),
    ):
        _filed_by_resident(other, contacts, rng)
        assert other.address == "x"
