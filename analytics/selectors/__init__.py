"""Every figure of the monthly report, each defined once as set-based SQL (docs/analytics.md).

`rates` holds the three rates; `volume`, `events` and `times` the other figure families; `units`
names the areas, departments and categories the figures point at. Reports, dashboards and the API
call these; none computes a figure of its own.
"""

from analytics.selectors.common import month_bounds
from analytics.selectors.rates import (
    EVERY_ROUND,
    LATEST_ROUND,
    Rate,
    resolution_rate,
    response_rate,
    satisfaction_rate,
)

__all__ = [
    "EVERY_ROUND",
    "LATEST_ROUND",
    "Rate",
    "month_bounds",
    "resolution_rate",
    "response_rate",
    "satisfaction_rate",
]
