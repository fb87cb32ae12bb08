"""What changed between two versions of one month's report: the figures whose numbers differ.

List items are matched by their key or unit code, never by position, so a street that moved from
rank 2 to rank 1 is compared with itself. Derived comparisons (mom, yoy, rank) and the build's own
metadata are left out: they change when the figures they come from change, which are listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from analytics.render.tables import COUNT, RATE, format_value

IGNORED_KEYS = {"generated_at", "mom", "yoy", "rank", "schema", "narrative", "recommendations", "settings"}
SECTION_LABELS = {
    "volume": "Petitions",
    "rates": "Rates",
    "categories": "Categories",
    "repeats": "Repeat complaints",
    "overdue": "Overdue and escalated",
    "returns": "Returns and disputes",
    "extensions": "Extensions",
    "times": "Handling times",
    "hotspots": "Hotspots",
}
SHOWN_MAX = 40


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


def _item_key(item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    unit = item.get("unit")
    if isinstance(unit, dict) and unit.get("code"):
        return f"unit:{unit['code']}"
    for key in ("key", "id"):
        if item.get(key) is not None:
            return f"{key}:{item[key]}"
    return None


def _item_label(item: dict) -> str:
    unit = item.get("unit")
    if isinstance(unit, dict):
        return str(unit.get("name") or unit.get("code"))
    return str(item.get("label") or item.get("name") or item.get("key") or item.get("id"))


def _leaves(node: Any, path: tuple[str, ...], labels: tuple[str, ...], out: dict) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in IGNORED_KEYS or key in ("unit", "label", "name", "key", "id", "top_category"):
                continue
            _leaves(value, (*path, key), (*labels, key), out)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            key = _item_key(item) or str(index)
            label = _item_label(item) if isinstance(item, dict) else str(index)
            _leaves(item, (*path, key), (*labels, label), out)
    elif isinstance(node, int | float) and not isinstance(node, bool) or node is None:
        out[path] = (labels, node)


FIELD_LABELS = {
    "value": "",
    "prev": "last month",
    "last_year": "same month last year",
    "numerator": "numerator",
    "denominator": "denominator",
    "count": "",
    "total": "total",
}


def _label(labels: tuple[str, ...]) -> str:
    words = []
    for index, part in enumerate(labels):
        if index == 0 and part in SECTION_LABELS:
            words.append(_(SECTION_LABELS[part]))
        elif part in FIELD_LABELS:
            if FIELD_LABELS[part]:
                words.append(_(FIELD_LABELS[part]))
        else:
            words.append(part.replace("_", " "))
    return " · ".join(words)


def _text(path: tuple[str, ...], value: Any) -> str:
    if path and path[0] == "rates" and path[-1] in ("value", "prev", "last_year"):
        return format_value(value, RATE)
    if isinstance(value, int):
        return format_value(value, COUNT)
    return format_value(value, "number")


def figures_diff(old: dict, new: dict) -> tuple[list[Change], int]:
    """The changed figures (at most SHOWN_MAX, in document order) and how many more changed."""
    before: dict = {}
    after: dict = {}
    _leaves(old, (), (), before)
    _leaves(new, (), (), after)
    changes = []
    for path in list(after) + [path for path in before if path not in after]:
        old_value = before.get(path, (None, None))[1]
        new_value = after.get(path, (None, None))[1]
        if old_value == new_value:
            continue
        labels = (after.get(path) or before.get(path))[0]
        changes.append(Change(_label(labels), _text(path, old_value), _text(path, new_value)))
    return changes[:SHOWN_MAX], max(0, len(changes) - SHOWN_MAX)
