"""Read-only figures for reports and dashboards, one module per sub-domain.

`rates` holds the three monthly rates (the names below keep `from analytics.selectors import …`
working); `hotspots` ranks grids and finds clusters.
"""

from analytics.selectors.rates import (
    EVERY_ROUND,
    LATEST_ROUND,
    Rate,
    month_bounds,
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
