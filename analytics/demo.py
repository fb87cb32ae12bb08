"""The demo's published reports: the district's monthly report for each of the last 12 months.

A `seed_demo` step. The figures are those at seed time, generated and published through the
services like the 1st-of-the-month schedule does; the PDF and XLSX are rendered on first download.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from analytics.models import Report
from analytics.services.reports import previous_month_of, report_generate
from grids.models import Area, AreaLevel

DEMO_MONTHS = 12


def publish_reports(context: Any = None) -> int:
    district = (
        getattr(context, "district", None) or Area.objects.filter(level=AreaLevel.DISTRICT).order_by("code").first()
    )
    if district is None:
        return 0
    year, month = previous_month_of(timezone.now())
    published = 0
    for _ in range(DEMO_MONTHS):
        report_generate(area=district, year=year, month=month, publish=True)
        published += 1
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    if context is not None and hasattr(context, "summary"):
        context.summary["published reports"] = published
    return published


def delete_reports(district: Area) -> None:
    Report.objects.filter(area__path__startswith=district.path).delete()
