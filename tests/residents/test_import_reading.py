"""Reading uploads and proposing a mapping: CSV in UTF-8 and GBK, XLSX with a title line, synonyms."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from governance.errors import DomainError
from residents.imports.mapping import RESIDENT, mapping_problems, suggest_mapping
from residents.imports.reading import read_header, read_table
from tests.residents.import_fixtures import RESIDENT_HEADER, csv_bytes


def test_it_reads_gbk_csv():
    data = csv_bytes(RESIDENT_HEADER, [["张三", "x", "男", "", "MP-101", "", "", "", "备注文字"]], encoding="gbk")
    table = read_table(data, file_name="居民.csv")
    assert table.header == RESIDENT_HEADER
    assert table.rows[0][0] == 2
    assert table.rows[0][1][0] == "张三"
    assert table.rows[0][1][8] == "备注文字"


def test_it_finds_the_header_below_a_title_in_xlsx():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["嘉定山社区居民花名册"])
    sheet.append(RESIDENT_HEADER)
    sheet.append(["李四", "370203195003151318", "男", 13912340001, "MP-101"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_table(buffer.getvalue(), file_name="居民.xlsx", header_hint=["姓名"])
    assert table.header_row == 2
    assert table.rows == [(3, ["李四", "370203195003151318", "男", 13912340001, "MP-101", None, None, None, None])]
    assert read_header(buffer.getvalue(), file_name="x.xlsx", header_hint=["姓名"]).header == RESIDENT_HEADER


def test_it_refuses_old_excel_and_empty_files():
    with pytest.raises(DomainError) as error:
        read_table(b"\xd0\xcf\x11\xe0" + b"\0" * 100, file_name="old.xls")
    assert error.value.code == "unreadable_file" or error.value.code == "bad_format"
    with pytest.raises(DomainError) as error:
        read_table(b"\n\n", file_name="empty.csv")
    assert error.value.code == "empty_file"


def test_it_suggests_a_mapping_from_chinese_synonyms():
    header = ["序号", "公民身份号码", "姓名", "联系电话", "房屋编码", "人口类型", "入住日期"]
    assert suggest_mapping(RESIDENT, header) == {
        "id_number": "公民身份号码",
        "name": "姓名",
        "phone": "联系电话",
        "house_code": "房屋编码",
        "registration": "人口类型",
        "moved_in": "入住日期",
    }


def test_a_remembered_mapping_wins_over_the_synonyms():
    header = ["住户", "证件", "电话"]
    remembered = {"name": "住户", "id_number": "证件", "house_address": "不在此文件"}
    assert suggest_mapping(RESIDENT, header, remembered) == {"name": "住户", "id_number": "证件", "phone": "电话"}


def test_a_mapping_without_required_columns_is_refused_in_chinese():
    from django.utils import translation

    with translation.override("zh-hans"):
        problems = mapping_problems(RESIDENT, ["姓名"], {"name": "姓名"})
    assert any("身份证号" in problem for problem in problems), problems
    assert any("门牌" in problem or "房屋" in problem for problem in problems), problems
