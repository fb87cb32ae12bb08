"""Reading an uploaded table: XLSX (first sheet) or CSV in UTF-8 or GBK/GB18030, header found.

The same rules as the 12345 import (`appeals/hotline.py`, which this layer may not import): the
header may sit below a title line or two, row numbers are the spreadsheet's (the header counts,
blank rows keep their number), old `.xls` files are refused with a message saying what to do.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from governance.errors import DomainError

CSV, XLSX = "csv", "xlsx"
FORMATS = (CSV, XLSX)
# Exports sometimes carry a title line or two above the header row.
HEADER_SCAN_ROWS = 10
# An upload larger than this is refused before it is read (100,000 rows of residents are ~15 MB).
MAX_UPLOAD_BYTES = 40 * 1024 * 1024
MAX_ROWS = 200_000


@dataclass
class Table:
    """The header's cells and the data rows below it, as (spreadsheet row number, cells)."""

    header: list[str]
    header_row: int
    rows: list[tuple[int, list[Any]]]
    file_format: str = CSV


def guess_format(data: bytes, name: str) -> str:
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    # A zip is an .xlsx; an OLE file is an old .xls, which the xlsx reader refuses with advice.
    return XLSX if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")) else CSV


def decode(data: bytes) -> str:
    # UTF-8 (with or without Excel's BOM) first; GBK text, which GB18030 covers, almost never
    # decodes as UTF-8 by accident, so the order is safe.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DomainError(
        _("The file is neither UTF-8 nor GBK/GB18030 text; save it as CSV (UTF-8) and try again."),
        code="unreadable_file",
    )


def _csv_rows(data: bytes, limit: int | None = None) -> Iterable[list[Any]]:
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise DomainError(_("This is a spreadsheet, not a CSV file; upload it as .xlsx."), code="unreadable_file")
    if b"\x00" in data[:4096]:
        raise DomainError(_("The file is not a CSV text file."), code="unreadable_file")
    text = decode(data)
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        return list(reader) if limit is None else [row for _n, row in zip(range(limit), reader, strict=False)]
    except csv.Error as error:
        raise DomainError(
            _("The CSV file is malformed: %(error)s") % {"error": error}, code="unreadable_file"
        ) from None


def _xlsx_rows(data: bytes, limit: int | None = None) -> Iterable[list[Any]]:
    from openpyxl import load_workbook

    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise DomainError(
            _("Old Excel .xls files are not supported; save the sheet as .xlsx or CSV."), code="unreadable_file"
        )
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise DomainError(
            _("The file is not a readable .xlsx workbook (%(error)s).") % {"error": error}, code="unreadable_file"
        ) from None
    try:
        if not workbook.worksheets:
            raise DomainError(_("The workbook has no sheet."), code="unreadable_file")
        rows = workbook.worksheets[0].iter_rows(values_only=True, max_row=limit)
        return [list(row) for row in rows]
    finally:
        workbook.close()


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def header_name(value: Any) -> str:
    return str(value).replace("\ufeff", "").replace("\n", "").strip() if value is not None else ""


def cell_text(value: Any) -> str:
    """A cell as text: Excel keeps long digit strings (phones, doorplates) as numbers."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def read_header(data: bytes, *, file_name: str = "", fmt: str | None = None, header_hint: Iterable[str] = ()) -> Table:
    """The file's header (and no rows), reading only its first lines: the upload page's quick look."""
    return read_table(data, file_name=file_name, fmt=fmt, header_hint=header_hint, header_only=True)


def read_table(
    data: bytes,
    *,
    file_name: str = "",
    fmt: str | None = None,
    header_hint: Iterable[str] = (),
    header_only: bool = False,
) -> Table:
    """The file's header and data rows. `header_hint`: column names that mark the header row.

    The header is the first non-blank row among the first HEADER_SCAN_ROWS that holds any hinted
    name (else the first non-blank row).
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise DomainError(
            _("The file is larger than %(mb)d MB; split it and import the parts.")
            % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)},
            code="file_too_large",
        )
    fmt = fmt or guess_format(data, file_name)
    if fmt not in FORMATS:
        raise DomainError(_("Upload an .xlsx or .csv file."), code="bad_format")
    limit = HEADER_SCAN_ROWS + 1 if header_only else None
    raw = _xlsx_rows(data, limit) if fmt == XLSX else _csv_rows(data, limit)
    numbered = list(enumerate(raw, start=1))
    candidates = [(n, row) for n, row in numbered[:HEADER_SCAN_ROWS] if any(not blank(v) for v in row)]
    if not candidates:
        raise DomainError(_("The file is empty."), code="empty_file")
    hints = {header_name(h) for h in header_hint}
    header_row, header = candidates[0]
    for number, row in candidates:
        if hints & {header_name(v) for v in row}:
            header_row, header = number, row
            break
    rows = [(n, row) for n, row in numbered if n > header_row and any(not blank(v) for v in row)]
    if header_only:
        return Table(header=[header_name(v) for v in header], header_row=header_row, rows=rows, file_format=fmt)
    if not rows:
        raise DomainError(_("The file has a header but no data rows."), code="empty_file")
    if len(rows) > MAX_ROWS:
        raise DomainError(
            _("The file has %(n)d rows; at most %(max)d rows are imported at once. Split it.")
            % {"n": len(rows), "max": MAX_ROWS},
            code="too_many_rows",
        )
    return Table(header=[header_name(v) for v in header], header_row=header_row, rows=rows, file_format=fmt)
