"""API pagination whose count stays cheap on large tables.

`count(*)` reads every matching row: over a million petitions a district's list pays hundreds of
milliseconds for a number nobody reads exactly. `CappedCountPagination` counts exactly up to
COUNT_CAP (reading at most that many index entries); above it, it answers PostgreSQL's planner
estimate (never below COUNT_CAP + 1) and says so with `"count_exact": false`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from rest_framework.response import Response

from governance.api import BoundedLimitOffsetPagination
from governance.loading import fast_loadable, instance_loader

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


# --- A list's count and pages, compiled once per key --------------------------------------------
# A staff list's plain view (a tab, its order, its pages) is a queryset built from the user's
# scope and the clock: building its condition, resolving it and compiling the count and the page
# cost ~5 ms of a ~15 ms page for a community's 待办, for the same text at every request of that
# user and tab. `kept_list` keeps both statements per key (the caller names in it everything the
# queryset is built from, but the clock). The clock's positions among the parameters are found
# by compiling twice, a microsecond apart: a statement whose text, or any other parameter,
# changes with it is not kept. The page is compiled without its slice; LIMIT and OFFSET are added.
#
# With client-side binding (Django's default on psycopg 3) the driver merges the parameters into
# the text at every execution, and re-parses any statement over 4 KB to do so (a 待办's CASE is
# 6 KB). A kept statement is merged once (`mogrify`, the driver's own quoting) with a marker
# moment in the clock's places, and split there: each request joins the parts with its own
# moment's literal and sends the text without parameters, as the driver would have sent it.
KEPT_LISTS = 512
_kept_lists: dict[tuple, KeptList | None] = {}
_MARKER = datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)


@dataclass(frozen=True)
class _Statement:
    sql: str
    params: tuple
    clock: tuple[int, ...]  # the positions in `params` that hold the clock
    parts: tuple[str, ...] | None  # the text merged with its parameters, split at the clock

    def at(self, cursor: Any, alias: str, now: datetime) -> tuple[str, tuple | None]:
        """(SQL, parameters) to send at the moment `now` through `cursor` (Django's)."""
        value = connections[alias].ops.adapt_datetimefield_value(now)
        if self.parts is not None:
            literal = cursor.cursor.mogrify("%s", [value]) if self.clock else ""
            return literal.join(self.parts), None
        if not self.clock:
            return self.sql, self.params
        fresh = list(self.params)
        for position in self.clock:
            fresh[position] = value
        return self.sql, tuple(fresh)


@dataclass(frozen=True)
class KeptList:
    """A list's count (up to `count_limit`) and page statements, with the clock's places in each."""

    alias: str
    counted: _Statement | None  # None: the condition matches nothing (Django's EmptyResultSet)
    listed: _Statement | None
    model: type[Model]
    init_list: tuple[str, ...]
    fields: slice
    populators: tuple
    columns: tuple[str, ...] | None = None  # the page read as values: these names, a dict a row

    def count(self, now: datetime) -> int:
        if self.counted is None:
            return 0
        with connections[self.alias].cursor() as cursor:
            cursor.execute(*self.counted.at(cursor, self.alias, now))
            return cursor.fetchone()[0]

    def page(self, now: datetime, offset: int, limit: int) -> list[Any]:
        if self.listed is None or limit <= 0:
            return []
        with connections[self.alias].cursor() as cursor:
            sql, params = self.listed.at(cursor, self.alias, now)
            cursor.execute(f"{sql} LIMIT {int(limit)} OFFSET {int(offset)}", params)
            return self._models(cursor.fetchall())

    def count_and_page(self, now: datetime, offset: int, limit: int) -> tuple[int, list[Any]]:
        """The count and one page in one round trip (PostgreSQL: the page joined laterally to the
        count, so an empty page still brings the count); elsewhere the two statements."""
        if self.counted is None or self.listed is None:
            return 0, []
        if connections[self.alias].vendor != "postgresql" or limit <= 0:
            return self.count(now), self.page(now, offset, limit)
        with connections[self.alias].cursor() as cursor:
            (count_sql, count_params), (page_sql, page_params) = (
                statement.at(cursor, self.alias, now) for statement in (self.counted, self.listed)
            )
            sql = (
                f"SELECT listed.*, counted.n FROM ({count_sql}) counted(n) LEFT JOIN LATERAL"
                f" (SELECT true, page.* FROM ({page_sql} LIMIT {int(limit)} OFFSET {int(offset)}) page) listed ON true"
            )
            # Both statements are merged text (no parameters) or neither (`_compile_kept`).
            params = None if count_params is None else count_params + page_params
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        counted = rows[0][-1]
        # No row on the page: the one row is the count's, its page columns (and the leading true) NULL.
        return counted, self._models([row[1:-1] for row in rows if row[0] is not None])

    def _models(self, rows: list[tuple]) -> list[Any]:
        if self.columns is not None:
            return [dict(zip(self.columns, row, strict=True)) for row in rows]
        # As Django's ModelIterable builds them (less what no kept list uses); without
        # `Model.__init__` where nothing listens to it (`governance.loading`).
        load = _loader(self.model, self.init_list, self.alias)
        objects = []
        for row in rows:
            obj = load(row[self.fields])
            for populator in self.populators:
                _populate(populator, row, obj, self.alias)
            objects.append(obj)
        return objects


def _loader(model: type[Model], names: tuple[str, ...], alias: str) -> Callable[[Any], Model]:
    if fast_loadable(model):
        return instance_loader(model, names, db=alias)
    return lambda values: model.from_db(alias, names, values)


def _populate(populator: Any, row: tuple, from_obj: Model, alias: str) -> None:
    """Django's `RelatedPopulator.populate`, its instance built by `_loader`."""
    if populator.reorder_for_init:
        data = populator.reorder_for_init(row)
    else:
        data = row[populator.cols_start : populator.cols_end]
    if data[populator.pk_idx] is None:
        obj = None
    else:
        obj = _loader(populator.model_cls, tuple(populator.init_list), alias)(data)
        for nested in populator.related_populators:
            _populate(nested, row, obj, alias)
    populator.local_setter(from_obj, obj)
    if obj is not None:
        populator.remote_setter(obj, from_obj)


class KeptRows:
    """A `KeptList` at one moment as a paginator's object list: counted by `count_up_to`, sliced
    into models. `window` (offset, limit), the page the request asks for, is read with the count
    in one statement; another slice (a page number out of range) is read on its own."""

    def __init__(self, kept: KeptList, now: datetime, window: tuple[int, int] | None = None):
        self.kept, self.now, self.window = kept, now, window
        self._rows: list[Model] | None = None

    def count_up_to(self, limit: int) -> int:
        if self.window is None:
            return self.kept.count(self.now)
        counted, self._rows = self.kept.count_and_page(self.now, *self.window)
        return counted

    def __getitem__(self, window: slice) -> list[Model]:
        start = window.start or 0
        # The paginator cuts the last page at the count: a shorter slice of the same window.
        if self._rows is not None and self.window[0] == start and window.stop - start <= self.window[1]:
            return self._rows[: window.stop - start]
        return self.kept.page(self.now, start, window.stop - start)


def kept_list(
    key: tuple,
    build: Callable[[datetime], QuerySet | tuple[QuerySet, QuerySet]],
    now: datetime,
    *,
    count_limit: int,
    values: tuple[str, ...] | None = None,
) -> KeptList | None:
    """The kept statements of `build(now)` (a model queryset, ordered, unsliced; or the pair of it
    and what counts as many rows more cheaply), or None when they cannot be kept (run the ORM
    then). `key` names every input of `build` but `now`; the count reads at most `count_limit`
    rows (`count_up_to`); `values`: the page is read as these values (`QuerySet.values`)."""
    if key in _kept_lists:
        return _kept_lists[key]
    kept = _compile_kept(build, now, count_limit, values)
    if len(_kept_lists) >= KEPT_LISTS:
        _kept_lists.clear()
    _kept_lists[key] = kept
    return kept


def kept_lists_clear() -> None:
    _kept_lists.clear()
    _kept_estimates.clear()


# A kept list above its count's cap shows the planner's estimate of its size (`estimated_count`):
# an EXPLAIN of the list built again, a round trip and a plan at every request of a district's
# list. An estimate is kept per list for ESTIMATE_SECONDS: it is a guess either way.
ESTIMATE_SECONDS = 60.0
_kept_estimates: dict[tuple, tuple[float, int | None]] = {}


def kept_estimate(key: tuple, estimate: Callable[[], int | None]) -> int | None:
    """`estimate()` for the kept list `key`, asked again after ESTIMATE_SECONDS."""
    now = time.monotonic()
    kept = _kept_estimates.get(key)
    if kept is not None and now - kept[0] < ESTIMATE_SECONDS:
        return kept[1]
    value = estimate()
    if len(_kept_estimates) >= KEPT_LISTS:
        _kept_estimates.clear()
    _kept_estimates[key] = (now, value)
    return value


def _compile_kept(build: Callable, now: datetime, count_limit: int, values: tuple[str, ...] | None) -> KeptList | None:
    later = now + timedelta(microseconds=1)
    first, second = (_listed_and_counted(build(moment)) for moment in (now, later))
    alias = first[0].db
    connection = connections[alias]
    if first[1].db != alias:
        return None
    try:
        compiled = [_statements(*pair, connection, count_limit, values) for pair in (first, second)]
    except EmptyResultSet:
        return KeptList(alias, None, None, first[0].model, (), slice(0, 0), (), values)
    except _NotKept:
        return None
    (count_a, page_a, compiler), (count_b, page_b, _compiler) = compiled
    now_value, later_value = (connection.ops.adapt_datetimefield_value(moment) for moment in (now, later))
    statements = []
    for (sql, params_a), (sql_b, params_b) in ((count_a, count_b), (page_a, page_b)):
        if sql != sql_b or len(params_a) != len(params_b):
            return None
        clock = tuple(i for i, (a, b) in enumerate(zip(params_a, params_b, strict=True)) if a != b)
        if any(params_a[i] != now_value or params_b[i] != later_value for i in clock):
            return None  # something else than the clock moved: not a kept shape
        statements.append(_Statement(sql, params_a, clock, _merged_parts(connection, sql, params_a, clock)))
    if any(statement.parts is None for statement in statements):  # merged both or neither: joined below
        statements = [_Statement(st.sql, st.params, st.clock, None) for st in statements]
    select, klass_info = compiler.select, compiler.klass_info
    if compiler.get_converters([column for column, _sql, _alias in select]):
        return None
    if values is not None:
        query = compiler.query
        columns = tuple(query.selected) if query.selected else (*query.extra_select, *query.values_select)
        return KeptList(alias, statements[0], statements[1], query.model, (), slice(0, 0), (), columns)
    if compiler.annotation_col_map:
        return None
    selected = klass_info["select_fields"]
    fields = slice(selected[0], selected[-1] + 1)
    return KeptList(
        alias=alias,
        counted=statements[0],
        listed=statements[1],
        model=klass_info["model"],
        init_list=tuple(column[0].target.attname for column in select[fields]),
        fields=fields,
        populators=tuple(get_related_populators(klass_info, select, alias)),
    )


def _merged_parts(connection: Any, sql: str, params: tuple, clock: tuple[int, ...]) -> tuple[str, ...] | None:
    """The statement merged with its parameters by the driver, split where the clock goes; None
    where the driver binds on the server (no `mogrify`) or the marker is not found once per place."""
    with connection.cursor() as cursor:
        raw = cursor.cursor
        if not hasattr(raw, "mogrify"):
            return None
        marker = connection.ops.adapt_datetimefield_value(_MARKER)
        filled = list(params)
        for position in clock:
            filled[position] = marker
        parts = (
            tuple(raw.mogrify(sql, filled).split(raw.mogrify("%s", [marker]))) if clock else (raw.mogrify(sql, filled),)
        )
    return parts if len(parts) == len(clock) + 1 else None


class _NotKept(Exception):
    pass


def _listed_and_counted(built: QuerySet | tuple[QuerySet, QuerySet]) -> tuple[QuerySet, QuerySet]:
    return built if isinstance(built, tuple) else (built, built)


def _statements(queryset: QuerySet, counting: QuerySet, connection: Any, count_limit: int, values):
    """((count SQL, params), (page SQL, params), the page's compiler) of an unsliced model queryset
    (read as `values` when given) and the queryset that counts it."""
    for plain in (queryset, counting):
        if plain.query.is_sliced or plain._fields is not None or plain._prefetch_related_lookups:
            raise _NotKept  # not a plain model list
    counted = counting.order_by().values_list("pk")[:count_limit].query
    inner_sql, inner_params = counted.get_compiler(connection=connection).as_sql()
    count = (f"SELECT COUNT(*) FROM ({inner_sql}) counted", tuple(inner_params))
    if values is not None:
        queryset = queryset.values(*values)
    compiler = queryset.query.get_compiler(connection=connection)
    page_sql, page_params = compiler.as_sql()
    return count, (page_sql, tuple(page_params)), compiler


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
