"""The report's workbook: one sheet per table, numbers as numbers with percentage formats."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.utils import translation

from analytics.render.tables import report_tables
from analytics.render.xlsx import report_xlsx
from tests.analytics.render_fixtures import FIGURES, make_report

pytestmark = pytest.mark.django_db


def _workbook(report) -> openpyxl.Workbook:
    with translation.override("zh-hans"):
        return openpyxl.load_workbook(io.BytesIO(report_xlsx(report)))


def test_it_writes_one_sheet_per_table_after_the_cover_and_the_analysis(tree):
    book = _workbook(make_report(tree["D"]))
    with translation.override("zh-hans"):
        titles = [table.title for table in report_tables(FIGURES)]
    assert len(book.sheetnames) == 2 + len(titles)
    assert book.sheetnames[:3] == ["报告", "分析", "本月概况"]
    assert len(set(book.sheetnames)) == len(book.sheetnames)


def test_rates_are_fractions_with_a_percentage_format_and_counts_are_integers(tree):
    book = _workbook(make_report(tree["D"]))
    sheet = book["三率"]
    header = [cell.value for cell in sheet[1]]
    response = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "响应率")
    rate = response[header.index("本月")]
    assert rate.value == FIGURES["rates"]["response"]["value"] == 0.9903
    assert rate.number_format == "0.00%"
    assert response[header.index("分子")].value == 1020.0
    assert response[header.index("分母")].value == 1030
    assert isinstance(response[header.index("分母")].value, int)

    summary = book["本月概况"]
    total = next(row for row in summary.iter_rows(min_row=2) if row[0].value == "受理诉求")
    assert [cell.value for cell in total[1:4]] == [1164, 1034, 1082]
    assert total[4].value == FIGURES["volume"]["total"]["mom"]
    assert total[4].number_format.startswith("+0.0%")


def test_a_figure_without_a_base_is_an_empty_cell_not_zero(tree):
    figures = {
        **FIGURES,
        "volume": {**FIGURES["volume"], "total": {"value": 3, "prev": 0, "last_year": 0, "mom": None, "yoy": None}},
    }
    book = _workbook(make_report(tree["D"], figures=figures))
    total = next(row for row in book["本月概况"].iter_rows(min_row=2) if row[0].value == "受理诉求")
    assert total[1].value == 3
    assert total[4].value is None


def test_the_analysis_sheet_carries_each_sentence_with_its_evidence(tree):
    book = _workbook(make_report(tree["D"]))
    rows = list(book["分析"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(FIGURES["narrative"]) + len(FIGURES["recommendations"])
    assert rows[0][1] == FIGURES["narrative"][0]["text"]
    assert "1,164" in rows[0][2]
