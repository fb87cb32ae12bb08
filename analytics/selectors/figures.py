"""The contract's building blocks (REPORT_CONTRACT.md): Fig, RateFig, and their comparisons.

Every number is JSON-native: counts are ints, rates and changes floats rounded to 4 places.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from analytics.selectors.rates import Rate

PLACES = 4


def rounded(value: Decimal | float | None) -> float | None:
    return None if value is None else round(float(value), PLACES)


def change(value: float | int | None, base: float | int | None) -> float | None:
    """Relative change (value - base) / base; None when the base is 0 or missing."""
    if value is None or not base:
        return None
    return round((value - base) / base, PLACES)


def fig(counts: Sequence[int]) -> dict[str, Any]:
    """A count with the month before and the same month last year: {value, prev, last_year, mom, yoy}."""
    value, prev, last_year = (int(c) for c in counts)
    return {
        "value": value,
        "prev": prev,
        "last_year": last_year,
        "mom": change(value, prev),
        "yoy": change(value, last_year),
    }


def difference(value: float | None, base: float | None) -> float | None:
    if value is None or base is None:
        return None
    return round(value - base, PLACES)


def rate_fig(rates: Sequence[Rate]) -> dict[str, Any]:
    """A rate with its counts; mom and yoy are differences of the rates (fractions of 1)."""
    current, prev, last_year = (rounded(rate.value) for rate in rates)
    return {
        "value": current,
        "numerator": rounded(rates[0].numerator),
        "denominator": int(rates[0].denominator),
        "prev": prev,
        "last_year": last_year,
        "mom": difference(current, prev),
        "yoy": difference(current, last_year),
    }
