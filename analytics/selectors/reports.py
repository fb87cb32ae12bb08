"""Reports a user may see: those of areas in their subtree (governance.scoping), newest first."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from analytics.models import Report
from governance.scoping import get_in_scope, scope_for


def reports_visible_to(user: Any) -> QuerySet[Report]:
    """Every version of every report whose area lies in the user's subtrees."""
    return scope_for(user).filter(Report.objects.select_related("area"), path_field="area__path")


def report_get_for_user(user: Any, *, report_id: int) -> Report:
    """One version the user may see; missing and out of scope are the same 404."""
    return get_in_scope(user, Report.objects.select_related("area"), path_field="area__path", pk=report_id)


def reports_of_month(user: Any, *, area_code: str | None = None, year: int | None = None, month: int | None = None):
    """The visible versions, narrowed to one area and/or one month, newest month and version first."""
    reports = reports_visible_to(user)
    if area_code:
        reports = reports.filter(area__code=area_code)
    if year and month:
        reports = reports.filter(year=year, month=month)
    return reports.order_by("-year", "-month", "area__path", "-version")
