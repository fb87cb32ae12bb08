"""Counters on the shared cache (Redis in production) for rate limits and lock-outs.

Each counter is a cache key created with a time-to-live when first hit and incremented atomically
after that (Redis `INCR` keeps the TTL), so a window starts at the first event and every process
sees the same count. A cache that cannot be reached never becomes a 500: the caller says per
endpoint whether the limit then lets requests through (`fail_open`, where refusing would turn a
Redis outage into an outage of the service) or raises `LimiterUnavailable` for it to refuse.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from governance.clientip import client_ip
from governance.env import parse_rates
from governance.errors import RateLimited

logger = logging.getLogger(__name__)

KEY_PREFIX = "limit"


class LimiterUnavailable(Exception):
    """The cache holding the counters could not be read or written."""


def limit_key(scope: str, ident: str) -> str:
    # Hashed: identifiers are client input (tracking numbers, IPs) and must be safe cache keys.
    return f"{KEY_PREFIX}:{scope}:{hashlib.sha256(ident.encode()).hexdigest()[:32]}"


def limit_incr(key: str, *, seconds: int, delta: int = 1) -> int:
    """Add `delta` to the counter (created with a `seconds` lifetime); the new count."""
    try:
        incr_window = getattr(cache, "incr_window", None)
        if incr_window is not None:  # Redis: one round trip (governance.cache.FailSoftRedisCache)
            return incr_window(key, delta, timeout=seconds)
        if cache.add(key, delta, timeout=seconds):
            return delta
        return cache.incr(key, delta)
    except ValueError:  # expired between add and incr: start a new window
        try:
            cache.set(key, delta, timeout=seconds)
        except Exception as error:
            raise LimiterUnavailable from error
        return delta
    except Exception as error:  # any cache failure (connection refused, timeout…)
        logger.warning("Rate-limit counter %s unavailable: %s", key, error)
        raise LimiterUnavailable from error


def limit_decr(key: str) -> None:
    """Give back one event (an attempt that turned out not to count). Best effort."""
    try:
        cache.decr(key)
    except Exception:  # an expired key or a cache failure: nothing to give back
        pass


def limit_extend(key: str, *, seconds: int) -> None:
    """Restart the counter's lifetime (a lock lasts its full time from the failure that set it)."""
    try:
        cache.touch(key, seconds)
    except Exception as error:
        logger.warning("Rate-limit counter %s could not be extended: %s", key, error)


def rate_hit(scope: str, ident: str, rates: str, *, fail_open: bool) -> int | None:
    """Count one event against each of `rates` ("5/min,50/h"); the retry-after seconds of the first
    rate exceeded, None when within all of them. A cache failure returns None when `fail_open`,
    else raises LimiterUnavailable."""
    for count, seconds in parse_rates(rates, name=scope):
        try:
            used = limit_incr(limit_key(f"{scope}:{seconds}", ident), seconds=seconds)
        except LimiterUnavailable:
            if fail_open:
                return None
            raise
        if used > count:
            return seconds
    return None


def rate_limit(scope: str, ident: str, *, setting: str, fail_open: bool) -> None:
    """Raise RateLimited (429) when `ident` exceeds the rates named by `settings.<setting>`."""
    retry_after = rate_hit(scope, ident, getattr(settings, setting), fail_open=fail_open)
    if retry_after is not None:
        raise RateLimited(retry_after=retry_after)


class SettingRateThrottle(BaseThrottle):
    """A DRF throttle on the shared cache: `rate_setting` names the rates, counted per user when
    signed in, else per client IP (governance.clientip). Fails open when the cache is down."""

    scope = "api"
    rate_setting = ""
    fail_open = True

    def allow_request(self, request: Any, view: Any) -> bool:
        user = getattr(request, "user", None)
        ident = f"user:{user.pk}" if user is not None and user.is_authenticated else f"ip:{client_ip(request)}"
        self.retry_after = rate_hit(self.scope, ident, getattr(settings, self.rate_setting), fail_open=self.fail_open)
        return self.retry_after is None

    def wait(self) -> float | None:
        return self.retry_after

    def get_ident(self, request: Any) -> str:
        return client_ip(request)
