"""API pagination whose count stays cheap on large tables.

`count(*)` reads every matching row: over a million petitions a district's list pays hundreds of
milliseconds for a number nobody reads exactly. `CappedCountPagination` counts exactly up to
COUNT_CAP (reading at most that many index entries); above it, it answers PostgreSQL's planner
estimate (never below COUNT_CAP + 1) and says so with `"count_exact": false`.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import EmptyResultSet, FullResultSet
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


def capped_count(queryset: QuerySet, cap: int = COUNT_CAP, *, kept: bool = False) -> tuple[int, bool]:
    """(count, exact): exact up to `cap`; above it the planner's estimate, at least cap + 1.

    `kept`: the count's SQL is compiled once per query shape, as `values_page` keeps a page's.
    """
    counted = count_up_to(queryset, cap + 1) if kept else queryset.order_by()[: cap + 1].count()
    if counted <= cap:
        return counted, True
    return max(cap + 1, estimated_count(queryset) or 0), False


# --- A page's SQL, compiled once per query shape ------------------------------------------------
# Django compiles a queryset's SQL at every evaluation: for a list page of ~25 columns over three
# joins, resolving the names of `values()` and `as_sql` cost ~0.4 ms of a ~4 ms API request, and
# give the same text for every request of one shape (a grid's workers differ only in the grid's id,
# a parameter). `values_page` keeps the text per shape: the WHERE clause as SQL with placeholders,
# the joins, the order, the columns and the slice. A shape is kept only when the statement's
# parameters are exactly its WHERE clause's and no column needs a Python converter, so running the
# kept text with this request's WHERE parameters sends what the ORM would have sent.
PAGE_SQL_SHAPES = 256
_page_sql: dict[tuple, tuple[str, tuple[str, ...]] | None] = {}
_count_sql: dict[tuple, str | None] = {}


def values_page(queryset: QuerySet, names: tuple[str, ...], offset: int, limit: int) -> list[dict[str, Any]]:
    """`list(queryset.values(*names)[offset : offset + limit])`, its SQL compiled once per shape."""
    connection = connections[queryset.db]
    shape = _page_shape(queryset, connection, names, offset, limit)
    if shape is None:
        return list(queryset.values(*names)[offset : offset + limit])
    key, where_params = shape
    if key not in _page_sql:
        if len(_page_sql) >= PAGE_SQL_SHAPES:
            _page_sql.clear()
        _page_sql[key] = _compiled_page(queryset, connection, names, offset, limit, where_params)
    compiled = _page_sql[key]
    if compiled is None:
        return list(queryset.values(*names)[offset : offset + limit])
    sql, columns = compiled
    with connection.cursor() as cursor:
        cursor.execute(sql, where_params)
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def count_up_to(queryset: QuerySet, limit: int) -> int:
    """`queryset.order_by()[:limit].count()`, its SQL compiled once per query shape when it can be."""
    counted = _kept_count(queryset, limit)
    return queryset.order_by()[:limit].count() if counted is None else counted


def _kept_count(queryset: QuerySet, limit: int) -> int | None:
    """`queryset.order_by()[:limit].count()` by its kept SQL; None when the shape is not kept.

    The first count of a shape runs through the ORM, which builds the statement inside `count()`:
    Django's execute_wrapper hands over the text it sends, kept if its parameters are the WHERE's.
    """
    connection = connections[queryset.db]
    shape = _page_shape(queryset, connection, ("COUNT(*)",), 0, limit)
    if shape is None:
        return None
    key, where_params = shape
    if key in _count_sql:
        sql = _count_sql[key]
        if sql is None:
            return None
        with connection.cursor() as cursor:
            cursor.execute(sql, where_params)
            return cursor.fetchone()[0]
    sent: list[tuple[str, tuple]] = []

    def record(execute, sql, params, many, context):
        sent.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        counted = queryset.order_by()[:limit].count()
    if len(_count_sql) >= PAGE_SQL_SHAPES:
        _count_sql.clear()
    _count_sql[key] = sent[0][0] if len(sent) == 1 and sent[0][1] == where_params else None
    return counted


_JOIN_KEY = ("parent_alias", "join_type", "join_field", "nullable")


def _page_shape(queryset: QuerySet, connection: Any, names: tuple[str, ...], offset: int, limit: int):
    """(the shape's key, the WHERE clause's parameters), or None for a query this cache does not take."""
    query = queryset.query
    if (
        query.annotations
        or query.extra
        or query.extra_tables
        or query.distinct
        or query.combinator
        or query.group_by is not None
        or query.is_sliced
        or query.values_select
        or query.select_for_update
        or query.extra_order_by
    ):
        return None
    try:
        where_sql, where_params = query.get_compiler(connection=connection).compile(query.where)
    except (EmptyResultSet, FullResultSet):
        return None
    joins = tuple(
        (alias, type(join), join.table_name, *(getattr(join, name, None) for name in _JOIN_KEY))
        for alias, join in query.alias_map.items()
        if query.alias_refcount[alias]
    )
    if any(getattr(join, "filtered_relation", None) for join in query.alias_map.values()):
        return None
    order = (tuple(query.order_by), query.default_ordering, query.standard_ordering)
    key = (connection.alias, query.model, names, offset, limit, where_sql, len(where_params), joins, order)
    return key, tuple(where_params)


def _compiled_page(queryset, connection, names, offset, limit, where_params) -> tuple[str, tuple[str, ...]] | None:
    query = queryset.values(*names)[offset : offset + limit].query
    compiler = query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    if tuple(params) != where_params or compiler.get_converters([col for col, _, _ in compiler.select]):
        return None
    columns = tuple(query.selected) if query.selected else (*query.extra_select, *query.values_select)
    return sql, columns


class CappedCountPagination(BoundedLimitOffsetPagination):
    """The bounded pagination (`governance.api`) with `capped_count`: `count` is exact when `count_exact` is true."""

    count_cap = COUNT_CAP
    count_exact = True

    def get_count(self, queryset: QuerySet) -> int:
        count, self.count_exact = capped_count(queryset, self.count_cap, kept=True)
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
