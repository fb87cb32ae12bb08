"""Recommendation rules: each kind's test over the figures document, and the text it writes.

A rule (analytics.models.RecommendationRule, edited in the admin, seeded by a data migration) has a
kind, a `threshold`, a `min_count`, `max_items` and a Chinese `text_template`. The kind's test below
walks one list of the figures document (REPORT_CONTRACT.md) and yields a hit per row that crosses
the thresholds, with the values its template may name and the evidence refs (dotted paths into
the same document). What each kind reads and what its thresholds mean:

- category_rising_twice: `categories.risers[i].count` with `prev2` (the count two months back):
  value > prev > prev2, each month at least `threshold` (relative, 0.1 = +10 %) above the one
  before, and prev2 ≥ min_count. Without `prev2` in the document the rule cannot fire.
- grid_many_repeats: `hotspots.grids[i]`: repeats ≥ threshold (a count).
- unit_low_satisfaction: `rates.by_unit[i].satisfaction`: value < threshold (a rate, 0.9 = 90 %)
  over at least min_count ratings.
- department_many_returns: `returns.by_department[i].count`: value ≥ threshold (a count).
- seasonal_riser: `categories.seasonal[i].count`: value and last_year both ≥ min_count and
  yoy ≥ threshold (relative).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from analytics.narrative import fmt_count, fmt_percent, fmt_rate


@dataclass(frozen=True)
class Rule:
    """A rule's settings without the database (tests, and the defaults the migration seeds)."""

    kind: str
    name: str
    severity: str
    threshold: Decimal
    min_count: int
    text_template: str
    max_items: int = 3
    pk: int | None = None


@dataclass(frozen=True)
class Hit:
    values: dict[str, str]
    evidence: list[dict]


def _ev(label: str, value: Any, ref: str) -> dict:
    return {"label": label, "value": value, "ref": ref}


def _rows(figures: dict, section: str, key: str) -> list[dict]:
    return (figures.get(section) or {}).get(key) or []


def _category_rising_twice(figures: dict, rule) -> Iterator[Hit]:
    step = float(rule.threshold)
    for index, row in enumerate(_rows(figures, "categories", "risers")):
        count = row.get("count") or {}
        value, prev, prev2 = count.get("value"), count.get("prev"), count.get("prev2")
        if value is None or prev is None or prev2 is None or prev2 < rule.min_count or prev2 == 0:
            continue
        if prev >= prev2 * (1 + step) and value >= prev * (1 + step) and value > prev > prev2:
            ref = f"categories.risers[{index}].count"
            yield Hit(
                values={
                    "label": row["label"],
                    "value": fmt_count(value),
                    "prev": fmt_count(prev),
                    "prev2": fmt_count(prev2),
                    "change": fmt_percent((value - prev) / prev),
                },
                evidence=[
                    _ev(row["label"], value, f"{ref}.value"),
                    _ev(f"{row['label']}（上月）", prev, f"{ref}.prev"),
                    _ev(f"{row['label']}（前月）", prev2, f"{ref}.prev2"),
                ],
            )


def _grid_many_repeats(figures: dict, rule) -> Iterator[Hit]:
    for index, row in enumerate(_rows(figures, "hotspots", "grids")):
        repeats = row.get("repeats") or 0
        if repeats >= float(rule.threshold) and repeats > 0:
            ref = f"hotspots.grids[{index}]"
            yield Hit(
                values={
                    "unit": row["unit"]["name"],
                    "repeats": fmt_count(repeats),
                    "petitions": fmt_count(row.get("petitions") or 0),
                },
                evidence=[
                    _ev(f"{row['unit']['name']}重复投诉", repeats, f"{ref}.repeats"),
                    _ev(f"{row['unit']['name']}诉求量", row.get("petitions"), f"{ref}.petitions"),
                ],
            )


def _unit_low_satisfaction(figures: dict, rule) -> Iterator[Hit]:
    for index, row in enumerate(_rows(figures, "rates", "by_unit")):
        rate = row.get("satisfaction") or {}
        value, rated = rate.get("value"), rate.get("denominator") or 0
        if value is None or rated < rule.min_count or value >= float(rule.threshold):
            continue
        ref = f"rates.by_unit[{index}].satisfaction"
        yield Hit(
            values={
                "unit": row["unit"]["name"],
                "rate": fmt_rate(value),
                "threshold": fmt_rate(float(rule.threshold)),
                "rated": fmt_count(rated),
            },
            evidence=[
                _ev(f"{row['unit']['name']}满意率", value, f"{ref}.value"),
                _ev(f"{row['unit']['name']}评价数", rated, f"{ref}.denominator"),
            ],
        )


def _department_many_returns(figures: dict, rule) -> Iterator[Hit]:
    for index, row in enumerate(_rows(figures, "returns", "by_department")):
        value = (row.get("count") or {}).get("value") or 0
        if value >= float(rule.threshold) and value > 0:
            yield Hit(
                values={"unit": row["unit"]["name"], "returns": fmt_count(value)},
                evidence=[_ev(f"{row['unit']['name']}退单", value, f"returns.by_department[{index}].count.value")],
            )


def _seasonal_riser(figures: dict, rule) -> Iterator[Hit]:
    for index, row in enumerate(_rows(figures, "categories", "seasonal")):
        count = row.get("count") or {}
        value, last_year, yoy = count.get("value"), count.get("last_year"), count.get("yoy")
        if value is None or last_year is None or yoy is None:
            continue
        if value < rule.min_count or last_year < rule.min_count or yoy < float(rule.threshold):
            continue
        ref = f"categories.seasonal[{index}].count"
        yield Hit(
            values={
                "label": row["label"],
                "value": fmt_count(value),
                "last_year": fmt_count(last_year),
                "change": fmt_percent(yoy),
            },
            evidence=[
                _ev(row["label"], value, f"{ref}.value"),
                _ev(f"{row['label']}（去年同月）", last_year, f"{ref}.last_year"),
            ],
        )


@dataclass(frozen=True)
class Kind:
    test: Callable[[dict, Any], Iterator[Hit]]
    placeholders: tuple[str, ...]


KINDS: dict[str, Kind] = {
    "category_rising_twice": Kind(_category_rising_twice, ("label", "value", "prev", "prev2", "change")),
    "grid_many_repeats": Kind(_grid_many_repeats, ("unit", "repeats", "petitions")),
    "unit_low_satisfaction": Kind(_unit_low_satisfaction, ("unit", "rate", "threshold", "rated")),
    "department_many_returns": Kind(_department_many_returns, ("unit", "returns")),
    "seasonal_riser": Kind(_seasonal_riser, ("label", "value", "last_year", "change")),
}

# The rules a new installation starts with (the data migration seeds exactly these).
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(
        kind="category_rising_twice",
        name="类别连续两月上升",
        severity="warning",
        threshold=Decimal("0.1"),
        min_count=5,
        text_template="{label}类诉求连续两个月上升（{prev2}件→{prev}件→{value}件），"
        "建议相关主管部门分析成因，开展专项整治，加大整治力度。",
    ),
    Rule(
        kind="grid_many_repeats",
        name="网格重复投诉多",
        severity="warning",
        threshold=Decimal("5"),
        min_count=0,
        text_template="{unit}本月重复投诉{repeats}件，建议对重复诉求逐一回访、从源头治理，防止问题反复发生。",
    ),
    Rule(
        kind="unit_low_satisfaction",
        name="单位满意率低于目标",
        severity="warning",
        threshold=Decimal("0.9"),
        min_count=5,
        text_template="{unit}满意率为{rate}，低于{threshold}的目标，建议对不满意诉求逐一回访、逐一销号。",
    ),
    Rule(
        kind="department_many_returns",
        name="部门退单多",
        severity="info",
        threshold=Decimal("5"),
        min_count=0,
        text_template="{unit}本月退单{returns}件，建议厘清职责边界，减少诉求往返流转。",
    ),
    Rule(
        kind="seasonal_riser",
        name="同比上升较多的类别",
        severity="warning",
        threshold=Decimal("0.3"),
        min_count=5,
        text_template="{label}类诉求较去年同月增加{change}（{last_year}件→{value}件），"
        "建议相关主管部门对照去年同期情况提前部署，继续开展专项行动，加大整治力度。",
    ),
)


def template_problem(kind: str, template: str) -> str | None:
    """Why a template cannot be used for the kind (an unknown placeholder, bad braces), or None."""
    spec = KINDS.get(kind)
    if spec is None:
        return _("Unknown rule kind.")
    try:
        template.format_map({name: "" for name in spec.placeholders})
    except KeyError as missing:
        return _("The template names %(name)s, which this kind does not provide; it may use: %(names)s.") % {
            "name": "{" + str(missing.args[0]) + "}",
            "names": "、".join("{" + name + "}" for name in spec.placeholders),
        }
    except (ValueError, IndexError):
        return _("The template has unmatched braces or a positional placeholder.")
    return None


def recommend(figures: dict, rules) -> list[dict]:
    """The recommendations the rules raise on the figures, in rule order, at most max_items per rule."""
    found = []
    for rule in rules:
        spec = KINDS.get(rule.kind)
        if spec is None or template_problem(rule.kind, rule.text_template):
            continue
        for position, hit in enumerate(spec.test(figures, rule)):
            if position >= rule.max_items:
                break
            found.append(
                {
                    "rule": rule.kind,
                    "rule_id": rule.pk,
                    "name": rule.name,
                    "severity": rule.severity,
                    "text": rule.text_template.format_map(hit.values),
                    "evidence": hit.evidence,
                }
            )
    return found


def active_rules() -> list:
    from analytics.models import RecommendationRule

    return list(RecommendationRule.objects.filter(is_active=True))
