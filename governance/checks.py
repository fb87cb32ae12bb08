"""System checks of the governance app: what an administrator must still enter by hand."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.db import DatabaseError
from django.utils import timezone


@checks.register()
def calendar_swaps_check(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Years of the next 12 months whose official swapped working days (调休) no package knows.

    An Info (it never fails `check --deploy`), shown by `manage.py check` and at start-up. Without
    database access (plain `check`) it asks the packages only; with `--database default` it also
    counts years an administrator entered in the CalendarDay table.
    """
    from governance import workcalendar

    today = timezone.localdate(timezone=workcalendar.CALENDAR_TZ)
    if databases:
        try:
            years = workcalendar.calendar_coverage_warnings(today=today)
        except DatabaseError:
            years = workcalendar.years_without_official_swaps(today=today)
    else:
        years = workcalendar.years_without_official_swaps(today=today)
    return [
        checks.Info(
            f"No official swapped working days (调休) are known for {year}: deadlines use "
            f"{'its statutory holidays' if workcalendar.statutory_covers_year(year) else 'Monday to Friday'}.",
            hint="Enter the year's swapped working days in the admin (Calendar days) once the State Council "
            "publishes them, or upgrade chinese-calendar.",
            id="governance.I001",
        )
        for year in years
    ]
