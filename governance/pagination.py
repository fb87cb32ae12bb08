"""API pagination whose count stays cheap on large tables.

`count(*)` reads every matching row: over a million petitions a district's list pays hundreds of
milliseconds for a number nobody reads exactly. `CappedCountPagination` counts exactly up to
COUNT_CAP (reading at most that many index entries); above it, it answers PostgreSQL's planner
estimate (never below COUNT_CAP + 1) and says so with `"count_exact": false`.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import connections
from django.db.models import QuerySet
from rest_framework.response import Response

from governance.api import BoundedLimitOffsetPagination

COUNT_CAP = 10_000


def estimated_count(queryset: QuerySet) -> int | None:
    """The planner's row estimate for the queryset (PostgreSQL), or None elsewhere."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().select_related(None).values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def capped_count(queryset: QuerySet, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """(count, exact): exact up to `cap`; above it the planner's estimate, at least cap + 1."""
    counted = queryset.order_by()[: cap + 1].count()
    if counted <= cap:
        return counted, True
    return max(cap + 1, estimated_count(queryset) or 0), False


class CappedCountPagination(BoundedLimitOffsetPagination):
    """The bounded pagination (`governance.api`) with `capped_count`: `count` is exact when `count_exact` is true."""

    count_cap = COUNT_CAP
    count_exact = True

    def get_count(self, queryset: QuerySet) -> int:
        count, self.count_exact = capped_count(queryset, self.count_cap)
        return count

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {
                "count": self.count,
                "count_exact": self.count_exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        response = super().get_paginated_response_schema(schema)
        response["properties"] = {
            "count": response["properties"]["count"],
            "count_exact": {
                "type": "boolean",
                "description": f"False when more than {self.count_cap:,} rows match: count is then an estimate.",
            },
            **{k: v for k, v in response["properties"].items() if k != "count"},
        }
        response["required"] = [*response.get("required", []), "count_exact"]
        return response
