"""Skips for tests that need a service this run does not have.

`@pytest.mark.postgres` runs only when the default database is PostgreSQL; `@pytest.mark.redis`
only when REDIS_URL is set. `scripts/test` provides both; `scripts/test --sqlite` provides neither.
"""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from django.db import connection

    no_postgres = pytest.mark.skip(reason=f"needs PostgreSQL (database is {connection.vendor}; set DATABASE_URL)")
    no_redis = pytest.mark.skip(reason="needs Redis (set REDIS_URL)")
    for item in items:
        if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
            item.add_marker(no_postgres)
        if item.get_closest_marker("redis") and not os.environ.get("REDIS_URL"):
            item.add_marker(no_redis)
