"""What changed between two versions of one month's report, in words a reader follows.

The generation service records the changes (`Report.changes`: {"previous_version", "count",
"items": [{"ref", "before", "after"}]}, refs like "volume.by_class[01].count.value", list items
named by their key or unit code); this module only labels and formats them for the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from analytics.render.tables import COUNT, RATE, format_value

_SEGMENT = re.compile(r"([^.\[\]]+)|\[([^\]]+)\]")


def _words() -> dict[str, str]:
    return {
        "volume": _("Petitions"),
        "total": _("total"),
        "by_channel": _("by channel"),
        "by_class": _("by category"),
        "by_closing_tier": _("by closing tier"),
        "by_unit": _("by unit"),
        "by_need": _("by need"),
        "by_tier": _("by tier"),
        "by_department": _("by department"),
        "by_category": _("by category"),
        "rates": _("Rates"),
        "response": _("response rate"),
        "resolution": _("resolution rate"),
        "satisfaction": _("satisfaction rate"),
        "satisfaction_every_round": _("satisfaction rate, every round"),
        "categories": _("Categories"),
        "top": _("top"),
        "top_week": _("top of the last week"),
        "risers": _("risers"),
        "fallers": _("fallers"),
        "seasonal": _("against last year"),
        "repeats": _("Repeat complaints"),
        "overdue": _("Overdue"),
        "escalated": _("escalated"),
        "auto_escalated": _("escalated automatically"),
        "supervised": _("supervised"),
        "returns": _("Returns"),
        "disputes": _("disputes"),
        "extensions": _("Extensions"),
        "asked": _("asked"),
        "granted": _("granted"),
        "refused": _("refused"),
        "times": _("Handling times"),
        "response_hours": _("response hours"),
        "resolution_hours": _("resolution hours"),
        "median": _("median"),
        "p90": _("p90"),
        "hotspots": _("Hotspots"),
        "grids": _("grids"),
        "microgrids": _("micro-grids"),
        "clusters": _("clusters"),
        "petitions": _("petitions"),
        "households": _("households"),
        "per_1000": _("per 1,000 households"),
        "unsatisfied": _("unsatisfied"),
        "risk": _("risk"),
        "rank": _("rank"),
        "prev": _("last month"),
        "last_year": _("same month last year"),
        "mom": _("month on month"),
        "yoy": _("year on year"),
        "numerator": _("numerator"),
        "denominator": _("denominator"),
        "delta": _("change"),
    }


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


def _find(items: Any, name: str) -> Any:
    if not isinstance(items, list):
        return None
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        unit = item.get("unit") if isinstance(item.get("unit"), dict) else {}
        if name in (str(item.get("key")), str(unit.get("code")), str(item.get("id")), str(index)):
            return item
    return None


def ref_label(figures: dict, ref: str) -> str:
    """ "volume.by_class[01].count.value" → "诉求 · 按类别 · 市容环境" (item names from the figures)."""
    words = _words()
    parts: list[str] = []
    node: Any = figures
    for name, item in _SEGMENT.findall(ref):
        if item:
            found = _find(node, item)
            unit = (found or {}).get("unit") if isinstance(found, dict) else None
            parts.append(
                str((unit or {}).get("name") or (found or {}).get("label") or (found or {}).get("name") or item)
            )
            node = found
        else:
            if name not in ("value", "count"):
                parts.append(words.get(name, name.replace("_", " ")))
            node = node.get(name) if isinstance(node, dict) else None
    return " · ".join(parts)


def _text(ref: str, value: Any) -> str:
    if ref.startswith("rates.") and ref.rsplit(".", 1)[-1] in ("value", "prev", "last_year"):
        return format_value(value, RATE)
    if isinstance(value, int):
        return format_value(value, COUNT)
    return format_value(value, "number")


def changes_rows(figures: dict, changes: dict | None) -> tuple[list[Change], int]:
    """The listed changes as labelled rows, and how many more changed than are listed."""
    changes = changes or {}
    items = changes.get("items") or []
    rows = [
        Change(
            ref_label(figures, item.get("ref", "")),
            _text(item.get("ref", ""), item.get("before")),
            _text(item.get("ref", ""), item.get("after")),
        )
        for item in items
        if str(item.get("ref", "")).rsplit(".", 1)[-1] not in ("mom", "yoy", "rank")
    ]
    return rows, max(0, int(changes.get("count") or 0) - len(items))
