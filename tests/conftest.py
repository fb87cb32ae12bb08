"""Shared personas: staff of every tier over a small area tree, a department handler, a resident."""

from __future__ import annotations

import uuid

import pytest

from appeals.selectors import categories_cache_clear
from appeals.serializers import list_rows_clear
from appeals.services._base import broker_breaker_reset
from appeals.services.deadlines import limits_cache_clear
from appeals.worklist import row_cells_clear
from governance.cache import cache_breaker_reset
from governance.models import Role
from governance.pagination import kept_lists_clear
from governance.selectors import areas_cache_clear, department_names_clear
from governance.templatetags.keep import keep_clear
from governance.workcalendar import calendar_cache_clear
from grids.spatial import invalidate_index
from residents.finder import finder_statements_clear
from tests.factories import Tree, build_tree, make_department, make_user
from tests.redis_server import own_redis  # noqa: F401  (a fixture for every test module)


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """Per-process caches outlive a test's rolled-back rows: each test starts without them."""
    caches = (
        invalidate_index,
        calendar_cache_clear,
        limits_cache_clear,
        broker_breaker_reset,
        cache_breaker_reset,
        categories_cache_clear,
        areas_cache_clear,
        department_names_clear,
        keep_clear,
        kept_lists_clear,
        row_cells_clear,
        list_rows_clear,
        finder_statements_clear,
    )
    for clear in caches:
        clear()
    yield
    for clear in caches:
        clear()


@pytest.fixture(autouse=True)
def _own_cache_keys(settings):
    """Each test counts in its own cache keys: rate-limit counters (and anything else cached) never
    leak between tests or between the xdist workers sharing one Redis database. Never clear() it:
    that flushes the whole database under the other worker's feet."""
    settings.CACHES = {
        name: {**config, "KEY_PREFIX": f"t{uuid.uuid4().hex[:12]}"} for name, config in settings.CACHES.items()
    }


@pytest.fixture
def tree(db) -> Tree:
    return build_tree()


@pytest.fixture
def department(db):
    return make_department()


@pytest.fixture
def grid_worker_a(tree):
    return make_user("grid_a", role=Role.GRID_WORKER, area=tree["DS0C0G0"])


@pytest.fixture
def grid_worker_b(tree):
    return make_user("grid_b", role=Role.GRID_WORKER, area=tree["DS0C0G1"])


@pytest.fixture
def community_secretary(tree):
    return make_user("secretary", role=Role.COMMUNITY_SECRETARY, area=tree["DS0C0"])


@pytest.fixture
def street_command(tree):
    return make_user("street0", role=Role.STREET_COMMAND, area=tree["DS0"])


@pytest.fixture
def other_street_command(tree):
    return make_user("street1", role=Role.STREET_COMMAND, area=tree["DS1"])


@pytest.fixture
def district_centre(tree):
    return make_user("district", role=Role.DISTRICT_CENTRE, area=tree["D"])


@pytest.fixture
def department_handler(department):
    return make_user("handler", role=Role.DEPARTMENT_HANDLER, department=department)


@pytest.fixture
def resident(db):
    return make_user("resident")


@pytest.fixture
def administrator(db):
    return make_user("admin", role=Role.ADMINISTRATOR, is_staff=True)
