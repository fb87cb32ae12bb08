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
