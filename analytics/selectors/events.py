"""Overdue, escalated, supervised, returned, extended and resolved: one statement over events.

An event counts in the month its `created_at` falls in, for the petition's location. Types are
read through the (type, created_at) index. "Overdue" counts the steps that ended a clock after its
deadline (`on_time = false`: a late acceptance, a late reply, an escalation on deadline…); a
petition late at two tiers counts twice, once per clock that ran out.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from analytics.selectors.common import ReportScope, dialect, fetch
from analytics.selectors.figures import fig
from analytics.selectors.units import area_ref, department_ref
from appeals.history import CLOCK_ENDING_EVENTS
from appeals.models import EventType, Tier
from governance.models import Department
from grids.models import Area

COUNTED = (
    EventType.ESCALATED,
    EventType.AUTO_ESCALATED,
    EventType.SUPERVISED,
    EventType.RETURNED,
    EventType.EXTENSION_ASKED,
    EventType.EXTENSION_GRANTED,
    EventType.EXTENSION_REFUSED,
    EventType.RESOLVED,
)
EVENT_TYPES = tuple(sorted({*COUNTED, *CLOCK_ENDING_EVENTS}))

EVENTS_SQL = """
SELECT {period} AS period, e.type,
       CASE WHEN e.on_time = FALSE THEN 1 ELSE 0 END AS late,
       {unit} AS unit,
       CASE WHEN e.type = 'returned' THEN {returned_by} END AS returned_by,
       CASE WHEN e.type = 'resolved' THEN e.to_tier END AS closing_tier,
       COUNT(*)
FROM appeals_petitionevent e
JOIN appeals_petition p ON p.id = e.petition_id
WHERE {area} AND e.type IN ({types}) AND {in_periods}
GROUP BY 1, 2, 3, 4, 5, 6
"""


def event_rows(scope: ReportScope) -> list[tuple]:
    """(period, type, late 0/1, unit id, returning department id, closing tier, count)."""
    sql = EVENTS_SQL.format(
        period=scope.period("e.created_at"),
        unit=scope.child_by_location(),
        returned_by=dialect().json_int("e.extra", "department_id"),
        area=scope.area_condition,
        types=", ".join(f"'{t}'" for t in EVENT_TYPES),
        in_periods=scope.in_periods("e.created_at"),
    )
    return fetch(sql, scope.params())


class EventTotals:
    def __init__(self, rows: list[tuple]):
        self.by_type = defaultdict(lambda: [0, 0, 0])
        self.late = [0, 0, 0]
        self.late_unit = defaultdict(lambda: [0, 0, 0])
        self.returned_by = defaultdict(lambda: [0, 0, 0])
        self.closing_tier = defaultdict(lambda: [0, 0, 0])
        for period, kind, late, unit, returned_by, closing_tier, count in rows:
            self.by_type[kind][period] += count
            if late:
                self.late[period] += count
                self.late_unit[unit][period] += count
            if kind == EventType.RETURNED and returned_by is not None:
                self.returned_by[returned_by][period] += count
            if kind == EventType.RESOLVED:
                self.closing_tier[closing_tier][period] += count

    def count(self, kind: str) -> list[int]:
        return self.by_type.get(kind, [0, 0, 0])


def overdue_section(totals: EventTotals, children: list[Area]) -> dict[str, Any]:
    return {
        "overdue": fig(totals.late),
        "escalated": fig(totals.count(EventType.ESCALATED)),
        "auto_escalated": fig(totals.count(EventType.AUTO_ESCALATED)),
        "supervised": fig(totals.count(EventType.SUPERVISED)),
        "by_unit": [
            {"unit": area_ref(child), "count": fig(totals.late_unit.get(child.pk, [0, 0, 0]))} for child in children
        ],
    }


def returns_section(totals: EventTotals, disputes: list[int], departments: dict[int, Department]) -> dict[str, Any]:
    """Returns (退单) and disputes (不满意 ratings given, every round); returns by the returning department."""
    by_department = sorted(
        (
            {"unit": department_ref(departments[dept_id]), "count": fig(counts)}
            for dept_id, counts in totals.returned_by.items()
            if dept_id in departments
        ),
        key=lambda e: (-e["count"]["value"], e["unit"]["code"]),
    )
    return {"returns": fig(totals.count(EventType.RETURNED)), "disputes": fig(disputes), "by_department": by_department}


def extensions_section(totals: EventTotals) -> dict[str, Any]:
    return {
        "asked": fig(totals.count(EventType.EXTENSION_ASKED)),
        "granted": fig(totals.count(EventType.EXTENSION_GRANTED)),
        "refused": fig(totals.count(EventType.EXTENSION_REFUSED)),
    }


def closing_tier_section(totals: EventTotals) -> list[dict[str, Any]]:
    """Resolutions in the month by the tier that resolved (a reopened petition resolved again counts again)."""
    return [
        {"key": int(tier), "label": str(label), "count": fig(totals.closing_tier.get(int(tier), [0, 0, 0]))}
        for tier, label in Tier.choices
    ]
