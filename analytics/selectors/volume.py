"""Volume, categories and repeat complaints: one statement over the petitions received.

A petition counts in the month its `created_at` (submission) falls in, in the area its location
columns name. One GROUP BY over the three months by channel, sub-class, unit below the area, need
type and whether it is a linked repeat (`repeat_of` set); the sections add the groups up.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.conf import settings

from analytics.selectors.common import LAST_YEAR, MONTH, PREV, ReportScope, fetch, moment, month_bounds, previous_month
from analytics.selectors.figures import fig
from analytics.selectors.units import area_ref
from appeals.models import Category, Channel, NeedType
from grids.models import Area

VOLUME_SQL = """
SELECT {period} AS period, p.channel, p.category_id, {unit} AS unit, p.need_type,
       CASE WHEN p.repeat_of_id IS NOT NULL THEN 1 ELSE 0 END AS is_repeat, COUNT(*)
FROM appeals_petition p
WHERE {area} AND {in_periods}
GROUP BY 1, 2, 3, 4, 5, 6
"""

UNCATEGORISED = "none"

# Each category's count two months back, for the rule "rising two months running" (prev2).
TWO_BACK_SQL = """
SELECT p.category_id, COUNT(*)
FROM appeals_petition p
WHERE {area} AND p.created_at >= %(start_two_back)s AND p.created_at < %(end_two_back)s
GROUP BY 1
"""


def category_counts_two_months_back(scope: ReportScope) -> dict[int | None, int]:
    """{category id: petitions received two months before the report's month}, counted as volume counts."""
    year, month = previous_month(*previous_month(scope.year, scope.month))
    start, end = month_bounds(year, month)
    params = {**scope.params(), "start_two_back": moment(start), "end_two_back": moment(end)}
    return dict(fetch(TWO_BACK_SQL.format(area=scope.area_condition), params))


def add_two_months_back(section: dict[str, Any], counts: dict[int | None, int], categories: dict) -> None:
    """Give each category entry's count its `prev2` (the month before last month)."""
    by_key = {(categories[c].code if c in categories else UNCATEGORISED): n for c, n in counts.items()}
    for name in ("top", "risers", "fallers", "seasonal"):
        for entry in section.get(name) or []:
            entry["count"]["prev2"] = by_key.get(entry["key"], 0)


def volume_rows(scope: ReportScope) -> list[tuple]:
    """(period, channel, category id, unit id, need type, is repeat 0/1, count) for the three months."""
    sql = VOLUME_SQL.format(
        period=scope.period("p.created_at"),
        unit=scope.child_by_location(),
        area=scope.area_condition,
        in_periods=scope.in_periods("p.created_at"),
    )
    return fetch(sql, scope.params())


def _counter():
    return defaultdict(lambda: [0, 0, 0])


class VolumeTotals:
    """The statement's rows added up by each dimension: {key: [month, prev, last year]}."""

    def __init__(self, rows: list[tuple]):
        self.total = [0, 0, 0]
        self.channel, self.category, self.unit, self.need = _counter(), _counter(), _counter(), _counter()
        self.repeats = [0, 0, 0]
        self.repeat_unit, self.repeat_category = _counter(), _counter()
        for period, channel, category, unit, need, is_repeat, count in rows:
            self.total[period] += count
            self.channel[channel][period] += count
            self.category[category][period] += count
            self.unit[unit][period] += count
            self.need[need][period] += count
            if is_repeat:
                self.repeats[period] += count
                self.repeat_unit[unit][period] += count
                self.repeat_category[category][period] += count


def _category_entry(category: Category | None, counts: list[int]) -> dict[str, Any]:
    if category is None:
        return {"key": UNCATEGORISED, "label": "未分类", "count": fig(counts)}
    return {"key": category.code, "label": category.name, "count": fig(counts)}


def volume_section(totals: VolumeTotals, children: list[Area], categories: dict[int, Category]) -> dict[str, Any]:
    by_channel = [
        {"key": key, "label": str(label), "count": fig(totals.channel[key])}
        for key, label in Channel.choices
        if any(totals.channel.get(key, (0,)))
    ]
    classes: dict[Any, dict[str, Any]] = {}
    for category_id, counts in totals.category.items():
        sub = categories.get(category_id)
        parent = categories.get(sub.parent_id) if sub is not None and sub.parent_id else sub
        parent_key = parent.pk if parent is not None else None
        entry = classes.setdefault(parent_key, {"category": parent, "counts": [0, 0, 0], "children": []})
        entry["counts"] = [a + b for a, b in zip(entry["counts"], counts, strict=True)]
        if sub is not None and sub.parent_id:
            entry["children"].append(_category_entry(sub, counts))
    by_class = []
    for entry in sorted(classes.values(), key=lambda e: (-e["counts"][MONTH], _code(e["category"]))):
        item = _category_entry(entry["category"], entry["counts"])
        item["children"] = sorted(entry["children"], key=lambda c: (-c["count"]["value"], c["key"]))
        by_class.append(item)
    return {
        "total": fig(totals.total),
        "by_channel": by_channel,
        "by_class": by_class,
        "by_unit": [
            {"unit": area_ref(child), "count": fig(totals.unit.get(child.pk, [0, 0, 0]))} for child in children
        ],
        "by_need": [
            {"key": key, "label": str(label), "count": fig(totals.need.get(key, [0, 0, 0]))}
            for key, label in NeedType.choices
        ],
    }


def _code(category: Category | None) -> str:
    return category.code if category is not None else "~"


def categories_section(totals: VolumeTotals, categories: dict[int, Category]) -> dict[str, Any]:
    """Top sub-classes, risers and fallers against last month, seasonal risers against last year.

    A riser or faller needs at least REPORT_MIN_VOLUME cases in one of the two months compared, so
    one case against none is not "+100%". Ordered by the absolute change (ties by code); each
    entry's `count` carries the relative change (mom / yoy).
    """
    minimum, top_n = settings.REPORT_MIN_VOLUME, settings.REPORT_TOP_CATEGORIES
    entries = [
        (categories.get(category_id), counts)
        for category_id, counts in totals.category.items()
        if category_id is None or category_id in categories
    ]

    def item(category, counts, base=None):
        entry = _category_entry(category, counts)
        if base is not None:
            entry["delta"] = counts[MONTH] - counts[base]
        return entry

    top = sorted((e for e in entries if e[1][MONTH]), key=lambda e: (-e[1][MONTH], _code(e[0])))[:top_n]

    def moved(base: int, sign: int) -> list[dict[str, Any]]:
        candidates = [
            e for e in entries if max(e[1][MONTH], e[1][base]) >= minimum and sign * (e[1][MONTH] - e[1][base]) > 0
        ]
        candidates.sort(key=lambda e: (-sign * (e[1][MONTH] - e[1][base]), _code(e[0])))
        return [item(category, counts, base) for category, counts in candidates[:top_n]]

    return {
        "top": [item(category, counts) for category, counts in top],
        "risers": moved(PREV, 1),
        "fallers": moved(PREV, -1),
        "seasonal": moved(LAST_YEAR, 1),
    }


def repeats_section(totals: VolumeTotals, children: list[Area], categories: dict[int, Category]) -> dict[str, Any]:
    by_category = sorted(
        (
            _category_entry(categories.get(category_id), counts)
            for category_id, counts in totals.repeat_category.items()
            if any(counts)
        ),
        key=lambda e: (-e["count"]["value"], e["key"]),
    )
    return {
        "count": fig(totals.repeats),
        "by_unit": [
            {"unit": area_ref(child), "count": fig(totals.repeat_unit.get(child.pk, [0, 0, 0]))} for child in children
        ],
        "by_category": by_category,
    }
