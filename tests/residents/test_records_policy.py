"""The records policy: who views, unmasks and edits; minors; scoping by the level columns."""

from __future__ import annotations

import pytest

from governance.scoping import level_scoped, scope_for
from residents.models import Building, House, Resident
from residents.policy import record_access, records_visible_to
from tests.residents import records_fixtures

records = records_fixtures.records

# role → (view, view unmasked, edit) of an adult's record in DS0C0G0M0
EXPECTED = {
    "grid_worker": (True, True, True),
    "microgrid_head": (True, False, False),
    "community_worker": (True, True, True),
    "community_secretary": (True, True, True),
    "street_command": (True, False, False),
    "district_centre": (True, False, False),
    "administrator": (True, False, True),
    "other_grid_worker": (False, False, False),
    "department_handler": (False, False, False),
    "resident": (False, False, False),
}
MINOR_VIEWERS = {"community_secretary", "street_command", "district_centre", "administrator"}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_the_access_of_each_role_to_an_adults_record(records, role):
    access = record_access(records.users[role], records.adult)
    assert (access.view, access.view_unmasked, access.edit) == EXPECTED[role]
    visible = records_visible_to(records.users[role], Resident.objects.all())
    assert visible.filter(pk=records.adult.pk).exists() == EXPECTED[role][0]
    sees_other_street = role in {"administrator", "district_centre", "other_grid_worker"}
    assert visible.filter(pk=records.outsider.pk).exists() == sees_other_street


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_minors_need_a_community_secretary_or_higher(records, role):
    allowed = role in MINOR_VIEWERS
    assert record_access(records.users[role], records.minor).view == allowed
    assert records_visible_to(records.users[role], Resident.objects.all()).filter(pk=records.minor.pk).exists() == (
        allowed
    )


def test_a_secretary_elsewhere_does_not_open_minors_here(records):
    from governance.models import Role
    from tests.factories import make_user

    user = make_user("r_mixed", role=Role.GRID_WORKER, area=records.tree["DS0C0G0"])
    user.posts.create(role=Role.COMMUNITY_SECRETARY, area=records.tree["DS1C1"])
    assert record_access(user, records.adult).view
    assert not record_access(user, records.minor).view
    visible = records_visible_to(user, Resident.objects.all())
    assert set(visible.values_list("pk", flat=True)) >= {records.adult.pk, records.outsider.pk}
    assert not visible.filter(pk=records.minor.pk).exists()


@pytest.mark.parametrize("model", [Building, House, Resident])
def test_the_one_scoping_rule_uses_the_level_columns(records, model):
    for role in ("grid_worker", "community_worker", "street_command", "district_centre", "other_grid_worker"):
        user = records.users[role]
        scope = scope_for(user)
        rows = level_scoped(user, model.objects.all())
        assert all(scope.sees_levels(row) for row in rows)
        expected = [row.pk for row in model.objects.all() if scope.sees_path(row.area_path)]
        assert sorted(rows.values_list("pk", flat=True)) == sorted(expected)


def test_the_level_condition_is_an_equality_on_the_level_column(records):
    sql = str(level_scoped(records.users["community_worker"], Resident.objects.all()).query)
    assert '"community_id" =' in sql and "LIKE" not in sql
    sql = str(level_scoped(records.users["district_centre"], Resident.objects.all()).query)
    assert "LIKE" in sql  # a district scope is the path prefix


def test_house_records_through_a_relation(records):
    visible = records_visible_to(records.users["grid_worker"], House.objects.all())
    assert set(visible) == {records.house}
    residents_of_visible_houses = records_visible_to(
        records.users["grid_worker"], Resident.objects.all(), prefix="house__"
    )
    assert records.outsider not in residents_of_visible_houses
