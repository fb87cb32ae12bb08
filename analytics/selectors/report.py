"""Every figure of one area's month that report-core owns, assembled from the family statements.

Six statements: volume (petitions), events, response (rounds due), ratings, times, plus the small
name look-ups (children, departments, categories). Each family reads the three months in one
pass; sections only add groups up and name them. `hotspots`, `narrative` and `recommendations`
are added by `analytics.services.reports.build_figures`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from analytics.selectors import events as ev
from analytics.selectors import times as tm
from analytics.selectors import volume as vol
from analytics.selectors.common import ReportScope, analytic_session
from analytics.selectors.figures import rate_fig, rounded
from analytics.selectors.rates import (
    EVERY_ROUND,
    rating_rows,
    ratings_of,
    response_of,
    response_rows,
)
from analytics.selectors.units import area_ref, categories_by_id, child_areas, department_ref, departments_by_id
from appeals.models import Tier
from governance.workcalendar import CALENDAR_TZ
from grids.models import Area

SCHEMA = 1
RATES = ("response", "resolution", "satisfaction")


def report_settings() -> dict[str, Any]:
    return {
        "basic_weight": float(settings.SATISFACTION_BASIC_WEIGHT),
        "min_volume": settings.REPORT_MIN_VOLUME,
        "rank_by": settings.REPORT_RANK_BY,
        "top_categories": settings.REPORT_TOP_CATEGORIES,
        "response_excluded_end_events": list(settings.REPORT_RESPONSE_EXCLUDED_END_EVENTS),
        "percentiles": "nearest-rank",
        "risk_weights": dict(settings.REPORT_RISK_WEIGHTS),
    }


class RateTotals:
    """The rate rows added up by (dimension, key): response rows and rating rows per period."""

    def __init__(self, response: list[tuple], ratings: list[tuple]):
        self.response: dict[tuple, list[list[tuple]]] = defaultdict(lambda: [[], [], []])
        self.ratings: dict[tuple, list[list[tuple]]] = defaultdict(lambda: [[], [], []])
        for row in response:
            period, tier, unit, department = row[:4]
            for key in (("all", None), ("tier", tier), ("unit", unit), ("department", department)):
                self.response[key][period].append(row)
        for row in ratings:
            period, tier, unit, department = row[:4]
            for key in (("all", None), ("tier", tier), ("unit", unit), ("department", department)):
                self.ratings[key][period].append(row)
        self.basic_weight = settings.SATISFACTION_BASIC_WEIGHT

    def rates(self, dimension: str, key: Any) -> dict[str, dict[str, Any]]:
        response = self.response.get((dimension, key), [[], [], []])
        ratings = [ratings_of(rows) for rows in self.ratings.get((dimension, key), [[], [], []])]
        return {
            "response": rate_fig([response_of(rows) for rows in response]),
            "resolution": rate_fig([counts.resolution() for counts in ratings]),
            "satisfaction": rate_fig([counts.satisfaction(self.basic_weight) for counts in ratings]),
        }

    def every_round(self) -> dict[str, Any]:
        periods = self.ratings.get(("all", None), [[], [], []])
        return rate_fig([ratings_of(rows, rounds=EVERY_ROUND).satisfaction(self.basic_weight) for rows in periods])

    def disputes(self) -> list[int]:
        """不满意 ratings given in each month (every round: a reopened petition's earlier judgement counts)."""
        periods = self.ratings.get(("all", None), [[], [], []])
        return [ratings_of(rows, rounds=EVERY_ROUND).unsatisfied for rows in periods]

    def keys(self, dimension: str) -> set:
        return {key for (dim, key) in [*self.response, *self.ratings] if dim == dimension and key is not None}


def rank(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rank by REPORT_RANK_BY (highest first); units below REPORT_MIN_VOLUME cases get no rank, last."""
    by, minimum = settings.REPORT_RANK_BY, settings.REPORT_MIN_VOLUME

    def rankable(entry):
        figure = entry[by]
        return figure["value"] is not None and figure["denominator"] >= minimum

    ranked = sorted(
        (e for e in entries if rankable(e)), key=lambda e: (-e[by]["value"], -e[by]["denominator"], e["unit"]["code"])
    )
    for position, entry in enumerate(ranked, 1):
        entry["rank"] = position
    rest = [e for e in entries if not rankable(e)]
    for entry in rest:
        entry["rank"] = None
    return ranked + rest


def rates_section(totals: RateTotals, children: list[Area], departments: dict) -> dict[str, Any]:
    overall = totals.rates("all", None)
    return {
        **overall,
        "satisfaction_every_round": totals.every_round(),
        "by_tier": [
            {"key": int(tier), "label": str(label), **totals.rates("tier", int(tier))} for tier, label in Tier.choices
        ],
        "by_unit": rank([{"unit": area_ref(child), **totals.rates("unit", child.pk)} for child in children]),
        "by_department": rank(
            [
                {"unit": department_ref(departments[d]), **totals.rates("department", d)}
                for d in sorted(totals.keys("department"))
                if d in departments
            ]
        ),
    }


def _summary(row: tuple | None) -> dict[str, Any]:
    if row is None:
        return {"median": None, "p90": None, "count": 0}
    return {"median": rounded(row[4]), "p90": rounded(row[5]), "count": int(row[3])}


def times_section(rows: list[tuple], departments: dict) -> dict[str, Any]:
    found = {(kind, dim, key): row for row in rows for kind, dim, key in [row[:3]]}

    def pair(dim, key):
        return {
            "response_hours": _summary(found.get(("response", dim, key))),
            "resolution_hours": _summary(found.get(("resolution", dim, key))),
        }

    department_ids = sorted({row[2] for row in rows if row[1] == tm.BY_DEPARTMENT and row[2] in departments})
    return {
        **pair(tm.ALL, 0),
        "by_tier": [
            {"key": int(tier), "label": str(label), **pair(tm.BY_TIER, int(tier))} for tier, label in Tier.choices
        ],
        "by_department": [
            {"unit": department_ref(departments[d]), **pair(tm.BY_DEPARTMENT, d)} for d in department_ids
        ],
    }


def report_figures(area: Area, year: int, month: int, *, now: datetime | None = None) -> dict[str, Any]:
    """The report's figures except hotspots, narrative and recommendations (REPORT_CONTRACT.md)."""
    now = now or timezone.now()
    scope = ReportScope.of(area, year, month, now)
    with transaction.atomic(), translation.override("zh-hans"):
        analytic_session()
        children = child_areas(area)
        categories = categories_by_id()
        volume = vol.VolumeTotals(vol.volume_rows(scope))
        events = ev.EventTotals(ev.event_rows(scope))
        response = response_rows(scope)
        ratings = rating_rows(scope)
        times = tm.time_rows(scope)
        rates = RateTotals(response, ratings)
        department_ids = {row[3] for row in response} | {row[3] for row in ratings}
        department_ids |= {row[2] for row in times if row[1] == tm.BY_DEPARTMENT}
        department_ids |= set(events.returned_by)
        departments = departments_by_id(department_ids)
        volume_section = vol.volume_section(volume, children, categories)
        volume_section["by_closing_tier"] = ev.closing_tier_section(events)
        categories_section = vol.categories_section(volume, categories)
        vol.add_two_months_back(categories_section, vol.category_counts_two_months_back(scope), categories)
        return {
            "schema": SCHEMA,
            "area": area_ref(area),
            "month": f"{year:04d}-{month:02d}",
            "generated_at": now.astimezone(CALENDAR_TZ).isoformat(timespec="seconds"),
            "settings": report_settings(),
            "volume": volume_section,
            "rates": rates_section(rates, children, departments),
            "categories": categories_section,
            "repeats": vol.repeats_section(volume, children, categories),
            "overdue": ev.overdue_section(events, children),
            "returns": ev.returns_section(events, rates.disputes(), departments),
            "extensions": ev.extensions_section(events),
            "times": times_section(times, departments),
            "self_check": None,
        }
