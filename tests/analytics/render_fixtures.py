"""A hand-written report (tests/analytics/render_figures.json, schema 1 of REPORT_CONTRACT.md) on the
test tree: district "D" with the factory's streets and grids, so the map joins its polygons."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from django.utils import timezone

from analytics.models import Report, ReportState, ReportStatus

FIGURES = json.loads((Path(__file__).parent / "render_figures.json").read_text())


def make_report(area, *, figures: dict | None = None, version: int = 1, published: bool = False, **fields) -> Report:
    figures = copy.deepcopy(figures if figures is not None else FIGURES)
    year, month = (int(part) for part in figures["month"].split("-"))
    now = timezone.now()
    return Report.objects.create(
        area=area,
        year=fields.pop("year", year),
        month=fields.pop("month", month),
        version=version,
        state=fields.pop("state", ReportState.READY),
        status=ReportStatus.PUBLISHED if published else ReportStatus.DRAFT,
        progress=100,
        figures=figures,
        requested_at=now,
        generated_at=now,
        published_at=now if published else None,
        **fields,
    )
