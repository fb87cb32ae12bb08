"""The page's model of one report: headline figures, formulas, chart data, narrative with footnotes.

Built from the frozen figures JSON only (plus, for the trend lines, the figures of earlier
published reports of the same area), so the web page and the PDF printed from it never disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from analytics.render.tables import CHANGE, COUNT, POINTS, RATE, format_value, unit_name

TREND_MONTHS = 12
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def resolve(figures: dict, ref: str | None) -> Any:
    """The value at a dotted path such as "categories.risers[0].count" (None if it leads nowhere)."""
    node: Any = figures
    for name, index in _STEP.findall(ref or ""):
        try:
            node = node[int(index)] if index else node[name]
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    return node


def _is_rate(node: Any) -> bool:
    return isinstance(node, dict) and "denominator" in node


def _is_fig(node: Any) -> bool:
    return isinstance(node, dict) and "value" in node and "prev" in node


def describe(node: Any) -> str:
    """A figure in one line of text: "99.03%（1,020 / 1,030）", "1,164（上月 1,034，去年同月 1,082）"."""
    if _is_rate(node):
        return _("%(rate)s (%(numerator)s of %(denominator)s; last month %(prev)s)") % {
            "rate": format_value(node.get("value"), RATE),
            "numerator": format_value(node.get("numerator"), "number"),
            "denominator": format_value(node.get("denominator"), COUNT),
            "prev": format_value(node.get("prev"), RATE),
        }
    if _is_fig(node):
        return _("%(value)s (last month %(prev)s, same month last year %(last_year)s)") % {
            "value": format_value(node.get("value"), COUNT),
            "prev": format_value(node.get("prev"), COUNT),
            "last_year": format_value(node.get("last_year"), COUNT),
        }
    if isinstance(node, dict):
        # A list item: its name and its count, whatever shape it has.
        name = unit_name(node) or node.get("label") or ""
        inner = node.get("count")
        if _is_fig(inner):
            return f"{name}: {describe(inner)}"
        words = {"petitions": _("petitions"), "repeats": _("repeats"), "risk": _("risk"), "delta": _("change")}
        parts = [name] + [f"{words[key]} {describe(node[key])}" for key in words if key in node]
        return ", ".join(str(part) for part in parts if part != "")
    if isinstance(node, float):
        return format_value(node, "number")
    if isinstance(node, int):
        return format_value(node, COUNT)
    return "" if node is None else str(node)


@dataclass
class Footnote:
    number: int
    label: str
    value: str  # the value the sentence cites
    figure: str  # the figure at `ref`, in full
    ref: str


@dataclass
class Sentence:
    text: str
    footnotes: list[Footnote]
    severity: str = ""

    @property
    def hover(self) -> str:
        return "；".join(f"{note.label}：{note.figure or note.value}" for note in self.footnotes)


@dataclass
class Headline:
    key: str
    label: str
    value: str
    mom: Any
    yoy: Any
    kind: str  # CHANGE for counts, POINTS for rates
    detail: str = ""
    formula: str = ""

    def _change_text(self, change: Any) -> str:
        text = format_value(change, self.kind)
        if self.kind == POINTS and change is not None:
            return _("%(points)s pp") % {"points": text}
        return text

    @property
    def mom_text(self) -> str:
        return self._change_text(self.mom)

    @property
    def yoy_text(self) -> str:
        return self._change_text(self.yoy)

    @property
    def mom_css(self) -> str:
        return _direction(self.mom)

    @property
    def yoy_css(self) -> str:
        return _direction(self.yoy)


def _direction(change: Any) -> str:
    if not isinstance(change, int | float) or not change:
        return "flat"
    return "up" if change > 0 else "down"


@dataclass
class Page:
    headlines: list[Headline]
    narrative: list[Sentence]
    recommendations: list[Sentence]
    charts: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)


def formulas(settings: dict) -> dict[str, str]:
    weight = settings.get("basic_weight", 1)
    return {
        "response": _(
            "Acceptances on time ÷ acceptances that fell due in the month (rounds ended by a return or a merge "
            "excluded)"
        ),
        "resolution": _(
            "Petitions whose last rating in the month was satisfied or basically satisfied ÷ petitions rated in "
            "the month"
        ),
        "satisfaction": _("(Satisfied + %(weight)s × basically satisfied) ÷ petitions rated in the month")
        % {"weight": weight},
    }


def _headlines(figures: dict) -> list[Headline]:
    total = figures.get("volume", {}).get("total") or {}
    rates = figures.get("rates", {})
    shown = formulas(figures.get("settings") or {})
    headlines = [
        Headline(
            "total",
            _("Petitions received"),
            format_value(total.get("value"), COUNT),
            total.get("mom"),
            total.get("yoy"),
            CHANGE,
            detail=_("last month %(prev)s · same month last year %(last_year)s")
            % {
                "prev": format_value(total.get("prev"), COUNT),
                "last_year": format_value(total.get("last_year"), COUNT),
            },
        )
    ]
    for key, label in (
        ("response", _("Response rate")),
        ("resolution", _("Resolution rate")),
        ("satisfaction", _("Satisfaction rate")),
    ):
        rate = rates.get(key) or {}
        headlines.append(
            Headline(
                key,
                label,
                format_value(rate.get("value"), RATE),
                rate.get("mom"),
                rate.get("yoy"),
                POINTS,
                detail=_("%(numerator)s of %(denominator)s")
                % {
                    "numerator": format_value(rate.get("numerator"), "number"),
                    "denominator": format_value(rate.get("denominator"), COUNT),
                },
                formula=shown[key],
            )
        )
    return headlines


def _sentences(figures: dict, items: list[dict], counter: list[int]) -> list[Sentence]:
    sentences = []
    for item in items or []:
        notes = []
        for evidence in item.get("evidence") or []:
            counter[0] += 1
            ref = evidence.get("ref") or ""
            value = evidence.get("value")
            notes.append(
                Footnote(
                    number=counter[0],
                    label=str(evidence.get("label") or ""),
                    value=describe(value),
                    figure=describe(resolve(figures, ref)) if ref else "",
                    ref=ref,
                )
            )
        sentences.append(Sentence(str(item.get("text") or ""), notes, str(item.get("severity") or "")))
    return sentences


# --- Chart data (json_script: static/js/report.js draws it) ----------------------------------------


def _month_shift(month: str, months: int) -> str:
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _series_figure(figures: dict | None, key: str) -> dict:
    if not figures:
        return {}
    if key == "total":
        return figures.get("volume", {}).get("total") or {}
    return figures.get("rates", {}).get(key) or {}


def trend(figures: dict, earlier: dict[str, dict]) -> dict[str, Any]:
    """Twelve months ending with the report's, and the same months a year before.

    `earlier` maps "YYYY-MM" to the figures of that month's published report of the same area. Each
    report gives its month's value and (its `last_year`) the value a year before; the report's own
    Fig/RateFig give last month and the same month last year. Months nobody reported stay gaps.
    """
    month = figures.get("month") or "2000-01"
    months = [_month_shift(month, offset) for offset in range(1 - TREND_MONTHS, 1)]
    series: dict[str, Any] = {"months": months}
    for key in ("total", "response", "resolution", "satisfaction"):
        own = _series_figure(figures, key)
        known = {
            month: own.get("value"),
            _month_shift(month, -1): own.get("prev"),
            _month_shift(month, -12): own.get("last_year"),
        }
        for when, past in earlier.items():
            if when == month:
                continue
            # Each earlier report carries its own value and the same month a year before it.
            past_own = _series_figure(past, key)
            for moment, value in ((when, past_own.get("value")), (_month_shift(when, -12), past_own.get("last_year"))):
                if value is not None and known.get(moment) is None:
                    known[moment] = value
        series[key] = [known.get(when) for when in months]
        series[f"{key}_last_year"] = [known.get(_month_shift(when, -12)) for when in months]
    return series


def charts(figures: dict, earlier: dict[str, dict]) -> dict[str, Any]:
    volume = figures.get("volume", {})
    categories = figures.get("categories", {})
    rates = figures.get("rates", {})
    top = categories.get("top", [])
    units = sorted(
        rates.get("by_unit", []), key=lambda item: (item.get("satisfaction") or {}).get("value") or 0, reverse=True
    )
    volume_by_unit = {
        (item.get("unit") or {}).get("code"): (item.get("count") or {}).get("value")
        for item in volume.get("by_unit", [])
    }
    return {
        "labels": {
            "thisYear": _("This year"),
            "lastYear": _("Last year"),
            "petitions": _("Petitions"),
            "lastMonth": _("Last month"),
            "response": _("Response rate"),
            "resolution": _("Resolution rate"),
            "satisfaction": _("Satisfaction rate"),
            "risk": _("Risk"),
            "repeats": _("Repeats"),
            "per1000": _("Per 1,000 households"),
            "openReport": _("Click to open its report"),
        },
        "trend": trend(figures, earlier),
        "categories": {
            "labels": [str(item.get("label") or item.get("key")) for item in top],
            "value": [(item.get("count") or {}).get("value") for item in top],
            "prev": [(item.get("count") or {}).get("prev") for item in top],
        },
        "channels": [
            {"name": str(item.get("label") or item.get("key")), "value": (item.get("count") or {}).get("value")}
            for item in volume.get("by_channel", [])
        ],
        "units": {
            "labels": [unit_name(item) for item in units],
            "response": [(item.get("response") or {}).get("value") for item in units],
            "resolution": [(item.get("resolution") or {}).get("value") for item in units],
            "satisfaction": [(item.get("satisfaction") or {}).get("value") for item in units],
            "petitions": [volume_by_unit.get((item.get("unit") or {}).get("code")) for item in units],
        },
        "clusters": (figures.get("hotspots") or {}).get("clusters", []),
    }


def report_page(figures: dict, earlier: dict[str, dict] | None = None) -> Page:
    counter = [0]  # footnotes are numbered through the narrative and the recommendations
    narrative = _sentences(figures, figures.get("narrative") or [], counter)
    recommendations = _sentences(figures, figures.get("recommendations") or [], counter)
    return Page(
        headlines=_headlines(figures),
        narrative=narrative,
        recommendations=recommendations,
        charts=charts(figures, earlier or {}),
        settings=figures.get("settings") or {},
    )
