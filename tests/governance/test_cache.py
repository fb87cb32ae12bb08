"""The cache fails soft and fast: Redis stopped or stalled makes it an empty cache, not an error."""

from __future__ import annotations

import signal
import time

import pytest
from django.core.cache import caches

from governance.cache import cache_breaker_open, cache_breaker_reset

pytestmark = [pytest.mark.redis]


@pytest.fixture
def own_cache(own_redis, settings):
    settings.CACHES = {"default": {"BACKEND": "governance.cache.FailSoftRedisCache", "LOCATION": own_redis.url}}
    settings.CACHE_TIMEOUT = 0.3
    return caches["default"]


def test_it_is_a_plain_redis_cache_while_redis_answers(own_cache):
    own_cache.set("a", {"n": 1})
    assert own_cache.get("a") == {"n": 1}
    assert own_cache.add("a", 2) is False
    assert own_cache.add("b", 1) is True
    assert own_cache.incr("b") == 2
    assert own_cache.get_many(["a", "b"]) == {"a": {"n": 1}, "b": 2}
    assert own_cache.delete("a") is True
    assert not cache_breaker_open()


def test_a_stopped_redis_reads_as_an_empty_cache_and_writes_nothing(own_cache, own_redis):
    own_cache.set("kept", 1)
    own_redis.stop()

    assert own_cache.get("kept", "default") == "default"
    assert cache_breaker_open()
    own_cache.set("x", 1)
    assert own_cache.add("x", 1) is False
    assert own_cache.get_many(["kept", "x"]) == {}
    assert own_cache.has_key("kept") is False
    assert own_cache.delete("kept") is False
    assert own_cache.set_many({"y": 1}) == ["y"]
    with pytest.raises(ValueError):
        own_cache.incr("kept")


def test_a_stalled_redis_costs_one_call_the_timeout_and_the_next_calls_nothing(own_cache, own_redis):
    own_cache.set("kept", 1)
    own_redis.process.send_signal(signal.SIGSTOP)
    try:
        started = time.monotonic()
        first = own_cache.get("kept")
        first_seconds = time.monotonic() - started
        started = time.monotonic()
        later = [own_cache.get("kept") for _ in range(20)]
        later_seconds = time.monotonic() - started
    finally:
        own_redis.process.send_signal(signal.SIGCONT)
    print(f"\nstalled cache: first get {first_seconds * 1000:.0f} ms, next 20 gets {later_seconds * 1000:.1f} ms")
    assert first is None and later == [None] * 20
    assert first_seconds < 1.0
    assert cache_breaker_open()  # the next calls never reached Redis


def test_it_uses_redis_again_once_the_breaker_closes(own_cache, own_redis):
    own_redis.stop()
    assert own_cache.get("k") is None
    own_redis.start()
    assert own_cache.get("k", "skipped") == "skipped"  # the breaker is still open

    cache_breaker_reset()  # what CACHE_RETRY_AFTER seconds do
    own_cache.set("k", 1)
    assert own_cache.get("k") == 1


def test_it_keeps_one_client_and_reconnects_it_after_a_restart(own_cache, own_redis):
    client = own_cache._cache.get_client(write=True)
    assert own_cache._cache.get_client("any key") is client  # one redis.Redis per pool, not per call
    own_cache.set("kept", 1)
    own_redis.stop()
    assert own_cache.get("kept", "gone") == "gone"
    own_redis.start()  # empty: it keeps nothing on disk
    cache_breaker_reset()
    assert own_cache.get("kept", "gone") == "gone"
    own_cache.set("again", 2)
    assert own_cache.get("again") == 2
    assert own_cache._cache.get_client() is client
