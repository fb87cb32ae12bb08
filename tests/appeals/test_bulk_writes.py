"""Many rows updated with their own values in one statement (governance/bulkwrite.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appeals.models import Petition
from governance import bulkwrite
from governance.bulkwrite import bulk_update_rows

FIELDS = ["status", "deadline_at", "supervised", "handler_area", "contact_phone", "sweep_failed_at"]


@pytest.fixture
def petitions(submit):
    return [submit() for _ in range(3)]


def test_each_row_gets_its_own_values_of_every_type(petitions, tree):
    stamp = timezone.now().replace(microsecond=123456)
    first, second, third = petitions
    first.status, first.deadline_at, first.supervised = "processing", stamp, True
    first.handler_area, first.contact_phone, first.sweep_failed_at = tree.district, "13900000001", None
    second.status, second.deadline_at, second.supervised = "accepted", None, False
    handler_before = second.handler_area_id
    second.contact_phone, second.sweep_failed_at = "", stamp + timedelta(days=1)
    untouched_title = third.title
    third.title = "not written: not a named field"
    assert bulk_update_rows(Petition, [first, second], FIELDS) == 2
    got = {p.pk: p for p in Petition.objects.filter(pk__in=[p.pk for p in petitions])}
    assert (got[first.pk].status, got[first.pk].deadline_at, got[first.pk].supervised) == ("processing", stamp, True)
    assert (got[first.pk].handler_area_id, got[first.pk].contact_phone) == (tree.district.pk, "13900000001")
    assert got[first.pk].sweep_failed_at is None
    assert (got[second.pk].status, got[second.pk].deadline_at, got[second.pk].supervised) == ("accepted", None, False)
    assert (got[second.pk].handler_area_id, got[second.pk].contact_phone) == (handler_before, "")
    assert got[second.pk].sweep_failed_at == stamp + timedelta(days=1)
    assert got[third.pk].title == untouched_title


@pytest.mark.postgres
def test_one_statement_per_batch_without_a_case_per_row(petitions, monkeypatch):
    monkeypatch.setattr(bulkwrite, "BATCH_SIZE", 2)
    for petition in petitions:
        petition.supervised = True
    with CaptureQueriesContext(connection) as captured:
        assert bulk_update_rows(Petition, petitions, ["supervised"]) == 3
    updates = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 2 and all("FROM (VALUES" in sql and "CASE" not in sql for sql in updates), updates
    assert Petition.objects.filter(supervised=True).count() == 3


def test_an_expression_is_written_by_djangos_bulk_update(petitions):
    first = petitions[0]
    before = Petition.objects.get(pk=first.pk).round_count
    first.round_count = F("round_count") + 1
    assert bulk_update_rows(Petition, [first], ["round_count"]) == 1
    assert Petition.objects.get(pk=first.pk).round_count == before + 1


def test_nothing_to_write_is_no_statement_and_the_key_is_refused(petitions):
    with CaptureQueriesContext(connection) as captured:
        assert bulk_update_rows(Petition, [], ["status"]) == 0
        assert bulk_update_rows(Petition, petitions, []) == 0
    assert captured.captured_queries == []
    if connection.vendor == "postgresql":
        with pytest.raises(ValueError):
            bulk_update_rows(Petition, petitions, ["id"])
