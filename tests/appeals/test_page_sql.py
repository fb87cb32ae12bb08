"""`governance.pagination.values_page` over petitions: a page's SQL compiled once per shape sends what the ORM would."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.test.utils import CaptureQueriesContext

from appeals.models import Petition
from governance import pagination
from governance.pagination import capped_count, values_page

NAMES = ("id", "tracking_no", "status", "created_at", "handler_area__code", "category__name")


@pytest.fixture(autouse=True)
def _no_kept_shapes():
    pagination._page_sql.clear()
    pagination._count_sql.clear()
    yield
    pagination._page_sql.clear()
    pagination._count_sql.clear()


def orm_page(queryset, offset=0, limit=3):
    with CaptureQueriesContext(connection) as captured:
        rows = list(queryset.values(*NAMES)[offset : offset + limit])
    return rows, [q["sql"] for q in captured.captured_queries]


def page(queryset, offset=0, limit=3):
    with CaptureQueriesContext(connection) as captured:
        rows = values_page(queryset, NAMES, offset, limit)
    return rows, [q["sql"] for q in captured.captured_queries]


def test_it_sends_what_the_orm_sends_for_every_scope_of_one_shape(submit, tree):
    petitions = [submit() for _ in range(4)]
    for petition in petitions:
        petition.refresh_from_db()
    shapes = [
        Petition.objects.filter(grid_id=petitions[0].grid_id).order_by("-created_at", "-id"),
        Petition.objects.filter(grid_id=-1).order_by("-created_at", "-id"),  # the same shape, no rows
        Petition.objects.filter(street_id=petitions[0].street_id, category__code="T0101").order_by("created_at"),
        Petition.objects.filter(status__in=["assigned", "accepted"]).order_by("-id"),
    ]
    for queryset in shapes:
        for offset in (0, 2):
            for _ in range(2):  # compiled, then kept
                assert page(queryset, offset) == orm_page(queryset, offset)


def test_it_keeps_one_text_per_shape(submit):
    first, second = submit(), submit()
    by_id = [Petition.objects.filter(pk=p.pk).order_by("id") for p in (first, second)]
    assert [values_page(q, NAMES, 0, 5)[0]["id"] for q in by_id] == [first.pk, second.pk]
    if connection.vendor == "postgresql":  # SQLite's datetimes need a converter: never kept there
        assert len(pagination._page_sql) == 1


def test_it_leaves_to_the_orm_what_it_cannot_keep(submit):
    submit()
    annotated = Petition.objects.annotate(label=Concat(F("tracking_no"), Value("-"))).order_by("id")
    ordered_by_expression = Petition.objects.order_by(Concat(F("tracking_no"), Value("-")).desc())
    for queryset in (annotated, ordered_by_expression, Petition.objects.none()):
        assert page(queryset) == orm_page(queryset)
    assert all(kept is None for kept in pagination._page_sql.values())


def test_it_counts_by_the_kept_text_what_the_orm_counts(submit):
    petitions = [submit() for _ in range(3)]
    grid = Petition.objects.get(pk=petitions[0].pk).grid_id
    for queryset in (Petition.objects.filter(grid_id=grid), Petition.objects.filter(grid_id=-1)):
        with CaptureQueriesContext(connection) as orm:
            expected = capped_count(queryset, 2)
        for _ in range(2):  # compiled, then kept
            with CaptureQueriesContext(connection) as kept:
                assert capped_count(queryset, 2, kept=True) == expected
            assert [q["sql"] for q in kept.captured_queries][:1] == [q["sql"] for q in orm.captured_queries][:1]
    assert capped_count(Petition.objects.filter(grid_id=grid), 2, kept=True)[1] is False  # 3 > 2: estimated
