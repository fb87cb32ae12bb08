"""`manage.py seed_demo` at a small scale: areas, departments, staff, demo accounts, rerun, reset."""

from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from shapely.geometry import shape

from governance.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from governance.management.commands.seed_demo import load_step
from governance.models import Department, DepartmentKind, Role, StaffPost
from grids.demo import DISTRICT_CODE, level_counts
from grids.models import Area, AreaLevel, BoundaryRevision
from grids.spatial import microgrid_at

SCALE = 0.02


def seed(*args: str, **options) -> str:
    out = StringIO()
    call_command("seed_demo", *args, scale=SCALE, stdout=out, **options)
    return out.getvalue()


def snapshot() -> tuple:
    User = get_user_model()
    return (
        list(Area.objects.order_by("pk").values_list("pk", "code", "name")),
        list(Department.objects.order_by("pk").values_list("pk", "code")),
        list(User.objects.order_by("pk").values_list("pk", "username", "password")),
        StaffPost.objects.count(),
    )


@pytest.fixture
def seeded(db, django_capture_on_commit_callbacks) -> str:
    # Executing on-commit callbacks rebuilds this process's point index, as after a real commit.
    with django_capture_on_commit_callbacks(execute=True):
        return seed()


def test_it_creates_the_area_tree(seeded):
    counts = Counter(Area.objects.values_list("level", flat=True))
    assert counts == {AreaLevel.DISTRICT: 1, **level_counts(SCALE)}
    district = Area.objects.get(code=DISTRICT_CODE)
    assert district.name == "市北区" and district.path == f"{DISTRICT_CODE}/"
    microgrid = Area.objects.filter(level=AreaLevel.MICROGRID).order_by("code").first()
    assert microgrid.path == "/".join(microgrid.code[:n] for n in (6, 9, 12, 15, 18)) + "/"
    assert microgrid.parent.parent.parent.parent == district
    assert BoundaryRevision.objects.get().revision >= 1


def test_it_creates_55_departments_of_every_kind(seeded):
    departments = Department.objects.filter(district__code=DISTRICT_CODE)
    assert departments.count() == 55
    assert set(departments.values_list("kind", flat=True)) == set(DepartmentKind.values)
    assert departments.filter(name="区城市管理局").exists()


def test_it_creates_one_demo_account_per_role(seeded):
    User = get_user_model()
    assert {role for _username, role in DEMO_ACCOUNTS} == set(Role.values)
    admin = User.objects.get(username="admin")
    assert admin.check_password(DEMO_PASSWORD)
    for username, role in DEMO_ACCOUNTS:
        user = User.objects.get(username=username)
        # One shared hash (checking each would hash nine times).
        assert user.password == admin.password
        assert user.is_staff == (role == Role.ADMINISTRATOR)  # only administrators use the admin
        assert list(user.posts.values_list("role", flat=True)) == [role]
        assert username in seeded
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="grid").posts.get().area.code == f"{DISTRICT_CODE}001001001"
    assert User.objects.get(username="deptlead").posts.get().department.name == "区城市管理局"


def test_it_staffs_every_area_and_department(seeded):
    posts = Counter(StaffPost.objects.values_list("role", flat=True))
    counts = level_counts(SCALE)
    # The demo accounts add one post per role on top of the bulk staff.
    assert posts[Role.GRID_WORKER] == counts[AreaLevel.GRID] + 1
    assert posts[Role.MICROGRID_HEAD] == counts[AreaLevel.MICROGRID] + 1
    assert posts[Role.COMMUNITY_SECRETARY] == counts[AreaLevel.COMMUNITY] + 1
    assert posts[Role.STREET_COMMAND] == counts[AreaLevel.STREET] + 1
    assert posts[Role.DEPARTMENT_LEADER] == 55 + 1
    assert posts[Role.ADMINISTRATOR] == 1
    named = get_user_model().objects.exclude(username__in=[u for u, _r in DEMO_ACCOUNTS])
    assert not named.filter(last_name="").exists()


def test_it_changes_nothing_when_run_again_without_reset(seeded):
    before = snapshot()
    output = seed()
    assert "already exist" in output
    assert "deptlead" in output
    assert snapshot() == before


def test_it_replaces_the_demo_data_with_reset(seeded):
    first = set(Area.objects.values_list("name", flat=True))
    users = get_user_model().objects.count()
    seed("--reset", seed=7)
    assert Counter(Area.objects.values_list("level", flat=True)) == {AreaLevel.DISTRICT: 1, **level_counts(SCALE)}
    assert set(Area.objects.values_list("name", flat=True)) != first
    assert Department.objects.count() == 55
    assert get_user_model().objects.count() == users


def test_it_finds_the_microgrid_at_a_microgrid_centre(seeded):
    for microgrid in Area.objects.filter(level=AreaLevel.MICROGRID).order_by("code")[:20]:
        centre = shape(microgrid.boundary).centroid
        located = microgrid_at(centre.x, centre.y)
        assert located is not None and located.code == microgrid.code


def test_it_skips_a_step_whose_module_does_not_exist():
    assert load_step("no_such_app.demo.seed_history") is None
    assert load_step("governance.management.commands.seed_demo.seed_people") is not None
