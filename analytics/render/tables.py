"""Every table of a report, defined once: the page shows them, the workbook writes one sheet each.

A `Table` holds raw JSON values (ints, floats, strings) with a `kind` per column; the page formats
them (`Cell.text`), the workbook keeps numbers as numbers with a number format per kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

# Column kinds: how a value is written and formatted.
TEXT, COUNT, RATE, CHANGE, POINTS, HOURS, NUMBER, SCORE = (
    "text",
    "count",  # a whole number
    "rate",  # a share 0..1, shown as a percentage
    "change",  # a relative change (value - base) / base, shown as a signed percentage
    "points",  # a difference of two rates, shown as signed percentage points
    "hours",  # working hours, one decimal
    "number",  # any other number (weighted numerators: 795.4)
    "score",  # a 0..1 score shown with two decimals (risk)
)
DECIMAL1 = "decimal1"  # a ratio shown with one decimal (petitions per 1,000 households)


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = TEXT


@dataclass
class Table:
    key: str  # stable, for anchors and sheet order
    title: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""
    # The page and the PDF show at most this many rows (a ranking's head); the workbook has them all.
    page_rows: int | None = None

    def cells(self) -> list[list[Cell]]:
        rows = self.rows if self.page_rows is None else self.rows[: self.page_rows]
        return [[Cell(value, column.kind) for value, column in zip(row, self.columns, strict=True)] for row in rows]

    @property
    def rows_left_out(self) -> int:
        return 0 if self.page_rows is None else max(0, len(self.rows) - self.page_rows)


@dataclass(frozen=True)
class Cell:
    value: Any
    kind: str

    @property
    def numeric(self) -> bool:
        return self.kind != TEXT

    @property
    def text(self) -> str:
        return format_value(self.value, self.kind)

    @property
    def css(self) -> str:
        if self.kind in (CHANGE, POINTS) and isinstance(self.value, int | float) and self.value:
            return "num up" if self.value > 0 else "num down"
        return "num" if self.numeric else ""


def format_value(value: Any, kind: str) -> str:
    """The page's (and PDF's) text of one value; "—" where there is no figure (a zero base, no rating)."""
    if value is None or value == "":
        return "—"
    if kind == TEXT:
        return str(value)
    if kind == COUNT:
        return f"{int(value):,}"
    if kind == RATE:
        return f"{value:.2%}"
    if kind == CHANGE:
        return f"{value:+.1%}" if value else "0.0%"
    if kind == POINTS:
        # Percentage points (a rate difference of 0.0103 is +1.03); the column header names the unit.
        return f"{value * 100:+.2f}" if value else "0.00"
    if kind in (HOURS, DECIMAL1):
        return f"{value:,.1f}"
    if kind == SCORE:
        return f"{value:.2f}"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:,}"


# --- Column groups of the contract's building blocks -------------------------------------------


def fig_columns(label: str) -> list[Column]:
    return [
        Column(label, COUNT),
        Column(_("Last month"), COUNT),
        Column(_("Same month last year"), COUNT),
        Column(_("Month on month"), CHANGE),
        Column(_("Year on year"), CHANGE),
    ]


def fig_values(fig: dict | None) -> list[Any]:
    fig = fig or {}
    return [fig.get("value"), fig.get("prev"), fig.get("last_year"), fig.get("mom"), fig.get("yoy")]


def rate_columns(label: str) -> list[Column]:
    return [
        Column(label, RATE),
        Column(_("Numerator"), NUMBER),
        Column(_("Denominator"), COUNT),
        Column(_("Last month"), RATE),
        Column(_("MoM (pp)"), POINTS),
        Column(_("YoY (pp)"), POINTS),
    ]


def rate_values(rate: dict | None) -> list[Any]:
    rate = rate or {}
    return [
        rate.get("value"),
        rate.get("numerator"),
        rate.get("denominator"),
        rate.get("prev"),
        rate.get("mom"),
        rate.get("yoy"),
    ]


def short_rate_columns(label: str) -> list[Column]:
    return [Column(label, RATE), Column(_("Counted"), NUMBER), Column(_("Of"), COUNT), Column(_("MoM (pp)"), POINTS)]


def short_rate_values(rate: dict | None) -> list[Any]:
    rate = rate or {}
    return [rate.get("value"), rate.get("numerator"), rate.get("denominator"), rate.get("mom")]


def hours_columns(label: str) -> list[Column]:
    return [
        Column(_("%(what)s: median") % {"what": label}, HOURS),
        Column(_("%(what)s: p90") % {"what": label}, HOURS),
        Column(_("%(what)s: cases") % {"what": label}, COUNT),
    ]


def hours_values(hours: dict | None) -> list[Any]:
    hours = hours or {}
    return [hours.get("median"), hours.get("p90"), hours.get("count")]


def unit_name(item: dict) -> str:
    unit = item.get("unit") or {}
    return unit.get("name") or unit.get("code") or ""


# --- The tables ----------------------------------------------------------------------------------


def _fig_table(key: str, title: str, first: str, items: Iterable[dict], name: Callable[[dict], str]) -> Table:
    return Table(
        key,
        title,
        [Column(first), *fig_columns(_("Petitions"))],
        [[name(item), *fig_values(item.get("count"))] for item in items],
    )


def _label(item: dict) -> str:
    return str(item.get("label") or item.get("key") or "")


def _summary(figures: dict) -> Table:
    volume, repeats = figures.get("volume", {}), figures.get("repeats", {})
    overdue, returns = figures.get("overdue", {}), figures.get("returns", {})
    extensions = figures.get("extensions", {})
    rows = [
        (_("Petitions received"), volume.get("total")),
        (_("Repeat complaints"), repeats.get("count")),
        (_("Overdue"), overdue.get("overdue")),
        (_("Escalated"), overdue.get("escalated")),
        (_("Escalated automatically"), overdue.get("auto_escalated")),
        (_("Supervised"), overdue.get("supervised")),
        (_("Returned"), returns.get("returns")),
        (_("Disputed"), returns.get("disputes")),
        (_("Extensions asked"), extensions.get("asked")),
        (_("Extensions granted"), extensions.get("granted")),
        (_("Extensions refused"), extensions.get("refused")),
    ]
    return Table(
        "summary",
        _("Figures of the month"),
        [Column(_("Figure")), *fig_columns(_("This month"))],
        [[label, *fig_values(fig)] for label, fig in rows if fig is not None],
    )


def _rates(figures: dict) -> Table:
    rates = figures.get("rates", {})
    rows = [
        (_("Response rate"), rates.get("response")),
        (_("Resolution rate"), rates.get("resolution")),
        (_("Satisfaction rate"), rates.get("satisfaction")),
        (_("Satisfaction rate, every round"), rates.get("satisfaction_every_round")),
    ]
    return Table(
        "rates",
        _("The three rates"),
        [Column(_("Rate")), *rate_columns(_("This month"))],
        [[label, *rate_values(rate)] for label, rate in rows if rate is not None],
    )


def _rates_by(key: str, title: str, first: str, items: list[dict], name: Callable[[dict], str]) -> Table:
    ranked = any("rank" in item for item in items)
    columns = [Column(_("Rank"), COUNT)] if ranked else []
    columns += [
        Column(first),
        *short_rate_columns(_("Response rate")),
        *short_rate_columns(_("Resolution rate")),
        *short_rate_columns(_("Satisfaction rate")),
    ]
    rows = []
    for item in sorted(items, key=lambda item: item.get("rank") or 0) if ranked else items:
        row = [item.get("rank")] if ranked else []
        row += [name(item)]
        for rate in ("response", "resolution", "satisfaction"):
            row += short_rate_values(item.get(rate))
        rows.append(row)
    return Table(key, title, columns, rows)


def _classes(figures: dict) -> Table:
    table = Table(
        "by_class",
        _("Petitions by category"),
        [Column(_("Category")), Column(_("Sub-category")), *fig_columns(_("Petitions"))],
    )
    for item in figures.get("volume", {}).get("by_class", []):
        table.rows.append([_label(item), "", *fig_values(item.get("count"))])
        for child in item.get("children") or []:
            table.rows.append([_label(item), _label(child), *fig_values(child.get("count"))])
    return table


def _movers(figures: dict) -> Table:
    categories = figures.get("categories", {})
    table = Table(
        "movers",
        _("Biggest risers and fallers"),
        [Column(_("Direction")), Column(_("Category")), Column(_("Change"), COUNT), *fig_columns(_("Petitions"))],
        note=_("Categories below %(n)s petitions in both months are left out.")
        % {"n": figures.get("settings", {}).get("min_volume", "—")},
    )
    for direction, items in (
        (_("Rising"), categories.get("risers", [])),
        (_("Falling"), categories.get("fallers", [])),
    ):
        for item in items:
            table.rows.append([direction, _label(item), item.get("delta"), *fig_values(item.get("count"))])
    return table


HOTSPOT_PAGE_ROWS = 30  # a district has ~940 grids: the page and the PDF show the riskiest


def _hotspots(key: str, title: str, items: list[dict]) -> Table:
    return Table(
        key,
        title,
        [
            Column(_("Rank"), COUNT),
            Column(_("Area")),
            Column(_("Petitions"), COUNT),
            Column(_("Households"), COUNT),
            Column(_("Per 1,000 households"), DECIMAL1),
            Column(_("Repeats"), COUNT),
            Column(_("Overdue"), COUNT),
            Column(_("Unsatisfied"), COUNT),
            Column(_("Risk"), SCORE),
        ],
        [
            [
                item.get("rank"),
                unit_name(item),
                item.get("petitions"),
                item.get("households"),
                item.get("per_1000"),
                item.get("repeats"),
                item.get("overdue"),
                item.get("unsatisfied"),
                item.get("risk"),
            ]
            for item in items
        ],
        page_rows=HOTSPOT_PAGE_ROWS,
    )


def _times(key: str, title: str, first: str, items: list[dict], name: Callable[[dict], str]) -> Table:
    return Table(
        key,
        title,
        [Column(first), *hours_columns(_("Response")), *hours_columns(_("Resolution"))],
        [
            [name(item), *hours_values(item.get("response_hours")), *hours_values(item.get("resolution_hours"))]
            for item in items
        ],
        note=_("Working hours: weekends and public holidays do not count."),
    )


def report_tables(figures: dict) -> list[Table]:
    """Every table of the report, in reading order; empty sections give tables without rows."""
    volume = figures.get("volume", {})
    rates = figures.get("rates", {})
    categories = figures.get("categories", {})
    times = figures.get("times", {})
    hotspots = figures.get("hotspots") or {}
    total_times = [{"label": _("All petitions"), **times}] if times.get("response_hours") else []
    tables = [
        _summary(figures),
        _rates(figures),
        _rates_by("rates_by_tier", _("Rates by tier"), _("Tier"), rates.get("by_tier", []), _label),
        _rates_by("rates_by_unit", _("Rates by unit, ranked"), _("Unit"), rates.get("by_unit", []), unit_name),
        _rates_by(
            "rates_by_department",
            _("Rates by department, ranked"),
            _("Department"),
            rates.get("by_department", []),
            unit_name,
        ),
        _fig_table("by_channel", _("Petitions by channel"), _("Channel"), volume.get("by_channel", []), _label),
        _classes(figures),
        _fig_table(
            "by_closing_tier",
            _("Petitions by the tier that closed them"),
            _("Tier"),
            volume.get("by_closing_tier", []),
            _label,
        ),
        _fig_table("by_unit", _("Petitions by unit"), _("Unit"), volume.get("by_unit", []), unit_name),
        _fig_table("by_need", _("Individual and common needs"), _("Need"), volume.get("by_need", []), _label),
        _fig_table("top", _("Top categories"), _("Category"), categories.get("top", []), _label),
        _movers(figures),
        _fig_table(
            "seasonal", _("Against the same month last year"), _("Category"), categories.get("seasonal", []), _label
        ),
        _fig_table(
            "repeats_by_unit",
            _("Repeat complaints by unit"),
            _("Unit"),
            figures.get("repeats", {}).get("by_unit", []),
            unit_name,
        ),
        _fig_table(
            "repeats_by_category",
            _("Repeat complaints by category"),
            _("Category"),
            figures.get("repeats", {}).get("by_category", []),
            _label,
        ),
        _fig_table(
            "overdue_by_unit",
            _("Overdue petitions by unit"),
            _("Unit"),
            figures.get("overdue", {}).get("by_unit", []),
            unit_name,
        ),
        _fig_table(
            "returns_by_department",
            _("Returns by department"),
            _("Department"),
            figures.get("returns", {}).get("by_department", []),
            unit_name,
        ),
        _times("times_by_tier", _("Handling times by tier"), _("Tier"), total_times + times.get("by_tier", []), _label),
        _times(
            "times_by_department",
            _("Handling times by department"),
            _("Department"),
            times.get("by_department", []),
            unit_name,
        ),
        _hotspots("hot_grids", _("Grids ranked by risk"), hotspots.get("grids", [])),
        _hotspots("hot_microgrids", _("Micro-grids ranked by risk"), hotspots.get("microgrids", [])),
        Table(
            "clusters",
            _("Clusters of petitions"),
            [
                Column(_("Place")),
                Column(_("Petitions"), COUNT),
                Column(_("Radius (m)"), COUNT),
                Column(_("Main category")),
                Column(_("Longitude"), NUMBER),
                Column(_("Latitude"), NUMBER),
            ],
            [
                [
                    item.get("name"),
                    item.get("count"),
                    item.get("radius_m"),
                    _label(item.get("top_category") or {}),
                    item.get("lon"),
                    item.get("lat"),
                ]
                for item in hotspots.get("clusters", [])
            ],
        ),
    ]
    return tables
