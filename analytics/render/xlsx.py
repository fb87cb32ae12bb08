"""The report as an XLSX workbook: a cover sheet, the narrative, then one sheet per table.

Numbers stay numbers: counts as integers, rates and changes as fractions with a percentage number
format, so a reader can sum, sort and chart them in the spreadsheet.
"""

from __future__ import annotations

import io
import re
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from analytics.render.page import report_page
from analytics.render.tables import (
    CHANGE,
    COUNT,
    DECIMAL1,
    HOURS,
    NUMBER,
    POINTS,
    RATE,
    SCORE,
    TEXT,
    Table,
    report_tables,
)

NUMBER_FORMATS = {
    COUNT: "#,##0",
    RATE: "0.00%",
    CHANGE: "+0.0%;-0.0%;0.0%",
    POINTS: "+0.00%;-0.00%;0.00%",
    HOURS: "0.0",
    DECIMAL1: "0.0",
    NUMBER: "#,##0.0##",
    SCORE: "0.00",
}
HEADER_FILL = PatternFill("solid", fgColor="F2F2F2")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_NAME_MAX = 31  # Excel's limit


def _sheet_title(title: str, taken: set[str]) -> str:
    base = _SHEET_FORBIDDEN.sub(" ", title)[:SHEET_NAME_MAX]
    name, n = base, 2
    while name in taken:
        suffix = f" {n}"
        name, n = base[: SHEET_NAME_MAX - len(suffix)] + suffix, n + 1
    taken.add(name)
    return name


def _write_table(sheet, table: Table) -> None:
    sheet.append([column.label for column in table.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in table.rows:
        sheet.append([_cell(value, column.kind) for value, column in zip(row, table.columns, strict=True)])
    for index, column in enumerate(table.columns, start=1):
        letter = get_column_letter(index)
        number_format = NUMBER_FORMATS.get(column.kind)
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = number_format
        sheet.column_dimensions[letter].width = 24 if column.kind == TEXT else 12
    sheet.freeze_panes = "B2"
    if table.note:
        sheet.append([])
        sheet.append([table.note])


def _cell(value: Any, kind: str) -> Any:
    if kind == TEXT:
        return "" if value is None else str(value)
    return value  # None stays an empty cell: no figure, not zero


def report_xlsx(report) -> bytes:
    """The workbook of `report` (a Report row, or anything with `.figures`)."""
    figures = report.figures
    workbook = Workbook()
    cover = workbook.active
    taken: set[str] = set()
    cover.title = _sheet_title(_("Report"), taken)
    area = figures.get("area") or {}
    for label, value in (
        (_("Area"), area.get("name")),
        (_("Area code"), area.get("code")),
        (_("Month"), figures.get("month")),
        (_("Version"), getattr(report, "version", None)),
        (_("Generated at"), figures.get("generated_at")),
    ):
        cover.append([label, value])
    cover.column_dimensions["A"].width = 18
    cover.column_dimensions["B"].width = 40

    page = report_page(figures)
    notes = workbook.create_sheet(_sheet_title(_("Analysis"), taken))
    notes.append([_("Kind"), _("Text"), _("Evidence")])
    for cell in notes[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for kind, sentences in ((_("Narrative"), page.narrative), (_("Recommendation"), page.recommendations)):
        for sentence in sentences:
            notes.append([kind, sentence.text, sentence.hover])
    notes.column_dimensions["A"].width = 10
    notes.column_dimensions["B"].width = 70
    notes.column_dimensions["C"].width = 70
    for row in notes.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    for table in report_tables(figures):
        _write_table(workbook.create_sheet(_sheet_title(table.title, taken)), table)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
