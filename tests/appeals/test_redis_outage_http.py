"""Redis stopped or stalled: the web keeps answering, over HTTP, and nothing is lost.

A redis-server of the test's own (free port) is the cache and the broker, with the production
settings' timeouts. While it is down the public form still answers with the tracking number — the
first request within 3 s, each of the next 20 within 100 ms (or, on a machine so loaded that the
same request took longer with Redis up, within LOAD_FACTOR times that) — login and a staff list
work; when it is back, a real worker routes every petition, each stored once. The figures are
printed (`pytest -s`).
"""

from __future__ import annotations

import gc
import signal
import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache
from django.test import Client

from appeals.models import EventType, Petition, PetitionEvent, Status
from appeals.services import _base, sweeps
from appeals.tasks import sweep_unrouted
from governance.cache import cache_breaker_open
from governance.celery import app as celery_app
from tests.appeals.conftest import POINT_A
from tests.redis_server import reset_connections

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FOLLOWING = 20
FIRST_LIMIT = 3.0
FOLLOWING_LIMIT = 0.1
# On a loaded machine (a parallel test run) the same request takes longer with Redis up too; the
# bound for the next 20 is then this many times the slowest request measured before the outage.
LOAD_FACTOR = 2
BASELINE = 5


@pytest.fixture
def redis_everywhere(own_redis, settings):
    """The cache and the broker on the test's own Redis, with the production timeouts."""
    settings.PETITION_DUPLICATE_WINDOW_SECONDS = 0  # the same form is filed again and again
    settings.CACHES = {"default": {"BACKEND": "governance.cache.FailSoftRedisCache", "LOCATION": own_redis.url}}
    celery_app.conf.broker_transport_options = {
        "socket_timeout": settings.BROKER_TIMEOUT,
        "socket_connect_timeout": settings.BROKER_TIMEOUT,
    }
    reset_connections()
    cache.set("warm", 1)
    assert cache.get("warm") == 1  # the cache really is this Redis
    return own_redis


@pytest.fixture
def form(resident_form):
    return lambda: resident_form(lon=str(POINT_A[0]), lat=str(POINT_A[1]))


def submit_over_http(form) -> tuple[float, float, str]:
    """One resident files the form, then reads the tracking number on the page it is sent to.

    Returns the seconds of the POST, of the GET, and the tracking number.
    """
    client = Client()
    started = time.monotonic()
    posted = client.post("/petitions/new/", form())
    post_seconds = time.monotonic() - started
    assert posted.status_code == 302 and posted["Location"] == "/petitions/new/done/", posted.status_code
    started = time.monotonic()
    page = client.get(posted["Location"])
    get_seconds = time.monotonic() - started
    assert page.status_code == 200
    tracking_no = page.context["tracking_no"]
    assert tracking_no in page.content.decode()
    return post_seconds, get_seconds, tracking_no


def staff_works(username: str) -> tuple[float, float]:
    client = Client()
    started = time.monotonic()
    login = client.post("/accounts/login/", {"username": username, "password": "pass-12345"})
    login_seconds = time.monotonic() - started
    assert login.status_code == 302, login.status_code
    started = time.monotonic()
    listing = client.get("/petitions/")
    list_seconds = time.monotonic() - started
    assert listing.status_code == 200
    return login_seconds, list_seconds


def outage(server, how: str) -> None:
    if how == "stopped":
        server.stop()
    else:
        server.process.send_signal(signal.SIGSTOP)


def recover(server, how: str) -> None:
    if how == "stopped":
        server.start()  # empty: the routing messages queued before are gone too
    else:
        server.process.send_signal(signal.SIGCONT)
    reset_connections()


@pytest.mark.parametrize("how", ["stopped", "stalled"])
def test_the_web_answers_while_redis_is_down_and_nothing_is_lost(
    redis_everywhere, form, street_command, monkeypatch, how
):
    # Pooled connections exist before the outage; the same requests with Redis up, for comparison.
    up = [submit_over_http(form) for _ in range(BASELINE)]
    before = [tracking_no for *_, tracking_no in up]
    # A full collection of a test process holding a whole suite's objects pauses it for 0.1–0.3 s at
    # random: not Redis. Collect now and hold the collector while the requests are timed.
    gc.collect()
    gc.disable()
    outage(redis_everywhere, how)
    try:
        posts, gets, numbers = [], [], []
        for _ in range(1 + FOLLOWING):
            post_seconds, get_seconds, tracking_no = submit_over_http(form)
            posts.append(post_seconds)
            gets.append(get_seconds)
            numbers.append(tracking_no)
        login_seconds, list_seconds = staff_works("street0")
        broker_breaker_open = time.monotonic() < _base._broker_down_until
        cache_started = time.monotonic()
        assert cache.get("warm") is None  # the cache answers "empty", at once
        cache_seconds = time.monotonic() - cache_started
        cache_breaker = cache_breaker_open()
    finally:
        gc.enable()
        recover(redis_everywhere, how)
    ms = lambda values: "/".join(f"{value * 1000:.0f}" for value in (min(values), max(values)))  # noqa: E731
    print(
        f"\nRedis up: POST+GET min/max {ms([p + g for p, g, _ in up])} ms. Redis {how}: first POST "
        f"{posts[0] * 1000:.0f} ms + GET {gets[0] * 1000:.0f} ms; next {FOLLOWING}: POST min/max {ms(posts[1:])} "
        f"ms, GET min/max {ms(gets[1:])} ms, POST+GET max {max(p + g for p, g in zip(posts[1:], gets[1:], strict=True)) * 1000:.0f}"
        f" ms; login {login_seconds * 1000:.0f} ms, staff list {list_seconds * 1000:.0f} ms, "
        f"cache read {cache_seconds * 1000:.1f} ms"
    )
    assert posts[0] + gets[0] < FIRST_LIMIT
    post_limit = max(FOLLOWING_LIMIT, LOAD_FACTOR * max(p for p, _, _ in up))
    get_limit = max(FOLLOWING_LIMIT, LOAD_FACTOR * max(g for _, g, _ in up))
    # Each of the next 20 within the bound; one scheduling hiccup of a shared 2-core machine (never
    # more than twice the bound) is not Redis: a request waiting on Redis takes the 0.3 s timeout.
    for values, limit in ((posts[1:], post_limit), (gets[1:], get_limit)):
        assert len([v for v in values if v >= limit]) <= 1 and max(values) < 2 * limit, values
    # After the first failure nothing waits for Redis any more, in this process.
    assert broker_breaker_open and cache_breaker
    assert len(set(numbers)) == len(numbers)
    ids = list(Petition.objects.filter(tracking_no__in=[*before, *numbers]).values_list("pk", flat=True))
    assert len(ids) == Petition.objects.count() == len(before) + 1 + FOLLOWING  # each stored once

    monkeypatch.setattr(sweeps, "UNROUTED_GRACE", timedelta(0))
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        sweep_unrouted.delay()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if not Petition.objects.filter(pk__in=ids, status=Status.SUBMITTED).exists():
                break
            time.sleep(0.2)
    assert Petition.objects.filter(pk__in=ids, status=Status.ASSIGNED).count() == len(ids)
    assert PetitionEvent.objects.filter(petition_id__in=ids, type=EventType.ROUTED).count() == len(ids)
