"""Services enqueue tasks by name, after commit, once per transaction."""

from __future__ import annotations

import inspect

import pytest
from django.db import transaction

from appeals.services import _base


@pytest.fixture
def published(monkeypatch):
    sent: list[tuple[str, tuple]] = []
    monkeypatch.setattr(_base, "_publish", lambda name, args: sent.append((name, args)))
    return sent


@pytest.mark.django_db(transaction=True)
def test_it_sends_each_task_once_per_transaction_after_commit(published):
    with transaction.atomic():
        for _ in range(3):
            _base.enqueue("appeals.send_notifications")
        _base.enqueue("appeals.route_petition", 7)
        _base.enqueue("appeals.route_petition", 8)
        assert published == []

    assert published == [
        ("appeals.send_notifications", ()),
        ("appeals.route_petition", (7,)),
        ("appeals.route_petition", (8,)),
    ]


@pytest.mark.django_db(transaction=True)
def test_the_next_transaction_sends_again(published):
    for _ in range(2):
        with transaction.atomic():
            _base.enqueue("appeals.send_notifications")
            _base.enqueue("appeals.send_notifications")

    assert published == [("appeals.send_notifications", ())] * 2


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_sends_nothing_and_does_not_swallow_the_next(published):
    with pytest.raises(RuntimeError), transaction.atomic():
        _base.enqueue("appeals.route_petition", 1)
        raise RuntimeError
    assert published == []

    with transaction.atomic():
        _base.enqueue("appeals.route_petition", 1)

    assert published == [("appeals.route_petition", (1,))]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_does_not_swallow_the_same_task_asked_later(published):
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            _base.enqueue("appeals.route_petition", 1)
            raise RuntimeError
        _base.enqueue("appeals.route_petition", 1)

    assert published == [("appeals.route_petition", (1,))]


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_it_sends_at_once(published):
    _base.enqueue("appeals.send_notifications")
    _base.enqueue("appeals.send_notifications")

    assert published == [("appeals.send_notifications", ())] * 2


def test_it_uses_only_the_public_on_commit_hook():
    assert "run_on_commit" not in inspect.getsource(_base)
