"""The other reports a report's page refers to: its previous version, and earlier published months."""

from __future__ import annotations

from grids.models import Area

TREND_SPAN_MONTHS = 24  # twelve months shown, each with the same month a year before


def _model(report):
    model = type(report)
    return model if hasattr(model, "objects") else None


def ancestors(area: Area) -> list[Area]:
    codes = area.ancestor_codes[:-1]
    return list(Area.objects.filter(code__in=codes).order_by("level")) if codes else []


def published_figures_before(report) -> dict[str, dict]:
    """{"YYYY-MM": figures} of the area's published reports of the 24 months before this one (newest version)."""
    model = _model(report)
    if model is None:
        return {}
    index = report.year * 12 + report.month - 1
    first = index - TREND_SPAN_MONTHS
    rows = (
        model.objects.filter(area_id=report.area_id, published_at__isnull=False)
        .filter(year__gte=first // 12, year__lte=report.year)
        .order_by("year", "month", "version")
        .values_list("year", "month", "figures")
    )
    found: dict[str, dict] = {}
    for year, month, figures in rows:
        if first <= year * 12 + month - 1 < index and figures:
            found[f"{year:04d}-{month:02d}"] = figures  # ordered by version: the newest wins
    return found
