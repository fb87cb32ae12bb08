"""Spreadsheet cells never start a formula."""

from __future__ import annotations

import pytest

from governance.exports import safe_cell, safe_row


@pytest.mark.parametrize("value", ["=1+1", "+86 138", "-2", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("x")'])
def test_it_escapes_text_a_spreadsheet_reads_as_a_formula(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["幸福路12号", "a=b", "", 12, -3.5, None])
def test_it_leaves_everything_else_alone(value):
    assert safe_cell(value) == value


def test_a_row_is_escaped_cell_by_cell():
    assert safe_row(["=1", "ok", 2]) == ["'=1", "ok", 2]
