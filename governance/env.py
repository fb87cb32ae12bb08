"""Typed readers for environment variables.

Every setting comes through one of these so a bad value stops the process at start-up with a
message naming the variable, instead of surfacing later as a confusing runtime error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    environ = os.environ if environ is None else environ
    value = environ.get(name)
    return None if value is None else value.strip()


def env_str(name: str, default: str = "", *, environ: Mapping[str, str] | None = None) -> str:
    value = _raw(name, environ)
    return default if value is None else value


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    value = _raw(name, environ)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off.")


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    value = _raw(name, environ)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum {minimum}.")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name}={number} is above the maximum {maximum}.")
    return number


def env_float(
    name: str, default: float, *, minimum: float | None = None, environ: Mapping[str, str] | None = None
) -> float:
    value = _raw(name, environ)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum {minimum}.")
    return number


def env_list(name: str, default: list[str] | None = None, *, environ: Mapping[str, str] | None = None) -> list[str]:
    value = _raw(name, environ)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_url(
    name: str,
    default: str = "",
    *,
    schemes: tuple[str, ...],
    environ: Mapping[str, str] | None = None,
) -> str:
    """A URL whose scheme is one of `schemes`; empty means unset."""
    value = _raw(name, environ)
    if value is None or value == "":
        return default
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        raise ImproperlyConfigured(
            f"{name} must be a URL starting with one of {', '.join(s + '://' for s in schemes)}."
        )
    if not parts.hostname and not parts.path.strip("/"):
        raise ImproperlyConfigured(f"{name}={value!r} names no host.")
    return value


_RATE_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rates(value: str, *, name: str = "rate") -> tuple[tuple[int, int], ...]:
    """`"5/min,50/h"` → ((5, 60), (50, 3600)): each a number of events per period in seconds."""
    import re

    rates = []
    for part in value.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*", part.lower())
        if not match or match.group(3) not in _RATE_UNITS or int(match.group(1)) < 1:
            raise ImproperlyConfigured(
                f"{name}={value!r}: {part.strip()!r} is not a rate like 5/min; "
                "write comma-separated N/s, N/min, N/h or N/d (N ≥ 1)."
            )
        rates.append((int(match.group(1)), int(match.group(2) or 1) * _RATE_UNITS[match.group(3)]))
    return tuple(rates)


def env_rates(name: str, default: str, *, environ: Mapping[str, str] | None = None) -> str:
    """A comma-separated list of rates (`5/min,50/h`), checked at start-up and returned as given."""
    value = _raw(name, environ)
    value = default if value is None or value == "" else value
    parse_rates(value, name=name)
    return value
