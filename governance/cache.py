"""A Redis cache that fails soft and fast: an outage makes it an empty cache, never a 500 or a hang.

Django's `RedisCache` waits as long as the socket does (minutes on a stalled server) and raises on
every error. Here each operation has short socket timeouts (`CACHE_TIMEOUT`), every Redis or
socket error is contained (a read answers the default, a write stores nothing), and after one
failure the process leaves Redis alone for `CACHE_RETRY_AFTER` seconds — so a stalled Redis costs
one request the timeout, not every request (the same breaker as the broker's in
`appeals.services._base.enqueue`).

Behaviour while down, as seen by callers: `get` → default, `get_many` → {}, `add` → False
(nothing stored), `has_key`/`touch`/`delete` → False, `incr`/`decr` → ValueError (like a missing
key, which every caller of `incr` already handles), `set`/`set_many`/`delete_many`/`clear` → no
effect (`set_many` lists every key as not stored).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

ERRORS = (redis.RedisError, OSError)

# Until when (time.monotonic()) this process skips Redis after a cache failure.
_down_until = 0.0


def cache_breaker_reset() -> None:
    """Try Redis again at the next cache call (tests; after an outage)."""
    global _down_until
    _down_until = 0.0


def cache_breaker_open() -> bool:
    return time.monotonic() < _down_until


class KeptClientRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client, keeping one `redis.Redis` per connection pool.

    Django builds a new `redis.Redis` around the pool for every operation; redis-py's constructor
    fills its table of response callbacks each time (the rate-limit check: 0.36 → 0.27 ms). A
    `redis.Redis` over a connection pool is safe to share between threads, so one per pool is kept.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._kept_clients: dict[Any, Any] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._kept_clients.get(pool)
        if client is None:
            client = self._kept_clients[pool] = self._client(connection_pool=pool)
        return client


class FailSoftRedisCache(RedisCache):
    """`django.core.cache.backends.redis.RedisCache` with contained errors and a breaker."""

    def __init__(self, server: Any, params: dict[str, Any]):
        params = dict(params)
        timeout = getattr(settings, "CACHE_TIMEOUT", 0.3)
        options = {
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout,
            "retry": Retry(NoBackoff(), 0),
            **params.get("OPTIONS", {}),
        }
        params["OPTIONS"] = options
        super().__init__(server, params)
        self._class = KeptClientRedisCacheClient

    def _guarded(self, fallback: Any, operation: str, call, *args: Any) -> Any:
        global _down_until
        if time.monotonic() < _down_until:
            return fallback
        try:
            return call(*args)
        except ERRORS:
            _down_until = time.monotonic() + getattr(settings, "CACHE_RETRY_AFTER", 10.0)
            logger.warning(
                "Cache %s failed; working without the cache for %.0f s.",
                operation,
                settings.CACHE_RETRY_AFTER,
                exc_info=True,
            )
            return fallback

    def get(self, key, default=None, version=None):
        return self._guarded(default, "get", super().get, key, default, version)

    def get_many(self, keys, version=None):
        return self._guarded({}, "get_many", super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._guarded(False, "has_key", super().has_key, key, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(False, "add", super().add, key, value, timeout, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._guarded(None, "set", super().set, key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(list(data), "set_many", super().set_many, data, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(False, "touch", super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._guarded(False, "delete", super().delete, key, version)

    def delete_many(self, keys, version=None):
        self._guarded(None, "delete_many", super().delete_many, keys, version)

    def clear(self):
        return self._guarded(None, "clear", super().clear)

    def incr_window(self, key, delta=1, timeout=DEFAULT_TIMEOUT, version=None):
        """Add `delta` to a counter created at 0 with `timeout` seconds to live when missing; the new
        count. One round trip (`SET NX EX` + `INCRBY` in one MULTI), where `add` then `incr` take
        three (`incr` also asks whether the key exists). ValueError when Redis is unavailable."""
        key = self.make_and_validate_key(key, version=version)
        seconds = self.get_backend_timeout(timeout)

        def call() -> int:
            pipe = self._cache.get_client(key, write=True).pipeline(transaction=True)
            pipe.set(key, 0, ex=seconds, nx=True)
            pipe.incrby(key, delta)
            return pipe.execute()[1]

        missing = object()
        result = self._guarded(missing, "incr", call)
        if result is missing:
            raise ValueError(f"Key '{key}' not counted (cache unavailable)")
        return result

    def incr(self, key, delta=1, version=None):
        missing = object()
        result = self._guarded(missing, "incr", super().incr, key, delta, version)
        if result is missing:
            raise ValueError(f"Key '{key}' not found (cache unavailable)")
        return result
