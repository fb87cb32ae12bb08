"""The template context of one report, shared by the web page and the PDF's print page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from analytics.render import history
from analytics.render.diff import changes_rows
from analytics.render.geo import risk_geojson
from analytics.render.page import report_page
from analytics.render.tables import report_tables


def month_label(month: str) -> str:
    try:
        year, number = (int(part) for part in month.split("-"))
    except (AttributeError, ValueError):
        return str(month or "")
    return _("%(year)d-%(month)02d") % {"year": year, "month": number}


def _when(value: str | None) -> str:
    if not value:
        return "—"
    try:
        return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return value


def report_context(
    report,
    *,
    print_mode: bool = False,
    link: Callable[[str], str | None] = lambda code: None,
) -> dict[str, Any]:
    figures = report.figures or {}
    area = report.area
    earlier = history.published_figures_before(report)
    page = report_page(figures, earlier)
    recorded = getattr(report, "changes", None) or {}
    previous_version = recorded.get("previous_version")
    changes, more = changes_rows(figures, recorded) if previous_version else (None, 0)
    hotspots = figures.get("hotspots") or {}
    return {
        "report": report,
        "figures": figures,
        "area": area,
        "area_name": (figures.get("area") or {}).get("name") or area.name,
        "ancestors": history.ancestors(area),
        "month_label": month_label(figures.get("month")),
        "status_label": report.get_status_display(),
        "generated_at": _when(figures.get("generated_at")),
        "page": page,
        "tables": {table.key: table for table in report_tables(figures)},
        "charts": page.charts,
        "geo": risk_geojson(figures, area, link=link),
        "weights": hotspots.get("risk_weights") or (figures.get("settings") or {}).get("risk_weights") or {},
        "previous_version": previous_version,
        "changes": changes,
        "changes_more": more,
        "print_mode": print_mode,
    }
