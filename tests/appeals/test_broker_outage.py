"""Redis stops in the middle of a burst of submissions: nothing is lost, everything is routed later.

The test runs its own redis-server on a free port (never the shared one) and a real Celery worker
thread against it, on real PostgreSQL.
"""

from __future__ import annotations

import signal
import time
from datetime import timedelta

import pytest
import redis
from celery.contrib.testing.worker import start_worker

from appeals.models import EventType, Petition, PetitionEvent, Status
from appeals.services import sweeps
from appeals.tasks import sweep_unrouted
from governance.celery import app as celery_app
from tests.redis_server import reset_connections

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BURST_BEFORE = 5
BURST_DURING = 20
# The public form must still answer while the broker is down; BROKER_TIMEOUT is 2 s by default.
MAX_SECONDS_PER_SUBMISSION_WHILE_DOWN = 10


def test_it_stores_every_petition_while_redis_is_down_and_routes_them_when_it_returns(
    own_redis, submit, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        before = [submit(route=False) for _ in range(BURST_BEFORE)]
    assert redis.Redis(port=own_redis.port).llen("celery") == BURST_BEFORE

    own_redis.stop()
    during = []
    slowest = 0.0
    for _ in range(BURST_DURING):
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            during.append(submit(route=False))
        slowest = max(slowest, time.monotonic() - started)
    print(f"slowest submission while Redis was down: {slowest:.2f} s")
    assert slowest < MAX_SECONDS_PER_SUBMISSION_WHILE_DOWN
    ids = [p.pk for p in before + during]
    assert Petition.objects.filter(pk__in=ids, status=Status.SUBMITTED).count() == len(ids)

    # Redis comes back empty (it keeps nothing on disk): the queued routing tasks are gone too.
    own_redis.start()
    reset_connections()
    monkeypatch.setattr(sweeps, "UNROUTED_GRACE", timedelta(0))
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        sweep_unrouted.delay()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if not Petition.objects.filter(pk__in=ids, status=Status.SUBMITTED).exists():
                break
            time.sleep(0.2)
    assert Petition.objects.filter(pk__in=ids, status=Status.ASSIGNED).count() == len(ids)
    routed = PetitionEvent.objects.filter(petition_id__in=ids, type=EventType.ROUTED)
    assert routed.count() == len(ids)


def test_a_stalled_redis_costs_one_request_the_timeout_and_the_rest_nothing(
    own_redis, submit, monkeypatch, settings, django_capture_on_commit_callbacks
):
    """Redis accepts connections but never answers (SIGSTOP): the worst case for a public form."""
    settings.BROKER_RETRY_AFTER = 30
    with django_capture_on_commit_callbacks(execute=True):
        submit(route=False)  # a pooled connection exists before the stall
    own_redis.process.send_signal(signal.SIGSTOP)
    try:
        timings = []
        petitions = []
        for _ in range(BURST_DURING):
            started = time.monotonic()
            with django_capture_on_commit_callbacks(execute=True):
                petitions.append(submit(route=False))
            timings.append(time.monotonic() - started)
    finally:
        own_redis.process.send_signal(signal.SIGCONT)
    print(f"stalled Redis: first submission {timings[0]:.2f} s, slowest of the rest {max(timings[1:]):.3f} s")
    assert timings[0] < MAX_SECONDS_PER_SUBMISSION_WHILE_DOWN
    assert max(timings[1:]) < 0.5
    assert Petition.objects.filter(pk__in=[p.pk for p in petitions], status=Status.SUBMITTED).count() == BURST_DURING
