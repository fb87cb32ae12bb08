"""Import of 12345 hotline work orders (工单) from a CSV or XLSX export (docs/hotline.md).

The whole file is read, its header checked and every row cleaned (control characters such as NUL,
dates outside the accepted window, unknown categories …) before any row is written: a file-level
problem (unreadable, required columns missing) raises `DomainError` and stores nothing. Then, by
default (the command), every good row is its own `petition_submit` call, so a bad row is reported
and loses nothing else. With `all_or_nothing=True` (the background job behind the API) the file is
one transaction: any failed row, or any error at all, commits nothing. The hotline's order number is
the petition's `external_ref`, which makes a re-import skip what is already there.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.models import Category, Channel, Petition, Urgency
from appeals.services import petition_submit
from governance.errors import DomainError
from governance.identity import normalize_phone
from governance.inputs import date_window_error, has_control_characters
from governance.privacy import mask_text

CSV, XLSX = "csv", "xlsx"
FORMATS = (CSV, XLSX)
ACTOR_LABEL = "12345"
# Without these a row cannot become a petition (the hotline channel needs a phone to call back).
REQUIRED_FIELDS = ("order_no", "description", "contact_phone")
# Exports sometimes carry a title line or two above the header row.
HEADER_SCAN_ROWS = 10
TITLE_FROM_DESCRIPTION = 30
# Field lengths of `Petition` that `petition_submit` does not check itself.
MAX_LENGTHS = {"order_no": 64, "contact_name": 50, "address": 200}
# A clock a little ahead at the hotline is fine; a date days ahead is a typo.
FUTURE_TOLERANCE = timedelta(hours=1)

URGENCY = {
    "一般": Urgency.NORMAL,
    "普通": Urgency.NORMAL,
    "紧急": Urgency.URGENT,
    "特急": Urgency.EMERGENCY,
    **{value: value for value in Urgency.values},
}
DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y%m%d%H%M%S",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y年%m月%d日",
)
CATEGORY_SEPARATORS = re.compile(r"\s*[/／>＞\\|-]\s*")
PHONE_SEPARATORS = re.compile(r"[,，;；/、]")


# How often (rows) an import reports its progress.
PROGRESS_EVERY = 200


class Outcome:
    CREATED = "created"
    SKIPPED = "skipped"
    ERROR = "error"
    # A good row of an all-or-nothing import that stored nothing because another row failed.
    NOT_STORED = "not_stored"


class Phase:
    CHECKING = "checking"
    WRITING = "writing"


@dataclass
class RowResult:
    row: int  # as a spreadsheet shows it: the header row counts
    order_no: str
    outcome: str
    tracking_no: str = ""
    messages: list[str] = field(default_factory=list)

    @property
    def masked_messages(self) -> list[str]:
        """The messages as reports show them: a cell value quoted in one may be a phone or an ID number."""
        return [mask_text(message) for message in self.messages]

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "order_no": self.order_no,
            "outcome": self.outcome,
            "tracking_no": self.tracking_no,
            "messages": self.masked_messages,
        }


@dataclass
class ImportReport:
    rows: list[RowResult] = field(default_factory=list)
    # False when an all-or-nothing import stored nothing because a row failed.
    committed: bool = True

    def _count(self, outcome: str) -> int:
        return sum(1 for result in self.rows if result.outcome == outcome)

    @property
    def created(self) -> int:
        return self._count(Outcome.CREATED)

    @property
    def skipped(self) -> int:
        return self._count(Outcome.SKIPPED)

    @property
    def failed(self) -> int:
        return self._count(Outcome.ERROR)

    @property
    def errors(self) -> list[RowResult]:
        return [result for result in self.rows if result.outcome == Outcome.ERROR]

    def totals(self) -> dict[str, int]:
        return {"rows": len(self.rows), "created": self.created, "skipped": self.skipped, "failed": self.failed}

    def as_dict(self) -> dict[str, Any]:
        return {
            "totals": self.totals(),
            "committed": self.committed,
            "rows": [result.as_dict() for result in self.rows],
        }


class RowError(Exception):
    pass


# --- Reading the file ------------------------------------------------------------------------------


def _read_bytes(file: Any) -> tuple[bytes, str]:
    """The file's content and name, from a path, bytes or a file object (an upload)."""
    if isinstance(file, bytes | bytearray):
        return bytes(file), ""
    if isinstance(file, str | Path):
        try:
            return Path(file).read_bytes(), str(file)
        except OSError as error:
            raise DomainError(
                _("Could not read the file: %(error)s") % {"error": error.strerror or error}, code="unreadable_file"
            ) from None
    data = file.read()
    if isinstance(data, str):
        data = data.encode("utf-8")
    return data, str(getattr(file, "name", "") or "")


def _guess_format(data: bytes, name: str) -> str:
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    return XLSX if data.startswith(b"PK\x03\x04") else CSV


def _decode(data: bytes) -> str:
    # UTF-8 (with or without the BOM Excel writes) first; hotline systems often export GBK, which
    # GB18030 covers. UTF-8 almost never decodes GBK text by accident, so the order is safe.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DomainError(
        _("The file is neither UTF-8 nor GBK/GB18030 text; save it as CSV (UTF-8) and try again."),
        code="unreadable_file",
    )


def _csv_rows(data: bytes) -> list[tuple[int, list[Any]]]:
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise DomainError(_("This is a spreadsheet, not a CSV file; import it as xlsx."), code="unreadable_file")
    if b"\x00" in data[:4096]:
        raise DomainError(_("The file is not a CSV text file."), code="unreadable_file")
    text = _decode(data)
    try:
        return [(number, row) for number, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1)]
    except csv.Error as error:
        raise DomainError(
            _("The CSV file is malformed: %(error)s") % {"error": error}, code="unreadable_file"
        ) from None


def _xlsx_rows(data: bytes) -> list[tuple[int, list[Any]]]:
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
        sheet = workbook.worksheets[0]
        return [(number, list(row)) for number, row in enumerate(sheet.iter_rows(values_only=True), start=1)]
    finally:
        workbook.close()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header_name(value: Any) -> str:
    return str(value).replace("\ufeff", "").strip() if value is not None else ""


def _columns() -> dict[str, str]:
    columns = settings.HOTLINE_COLUMNS
    unknown = sorted(set(columns.values()) - set(settings.HOTLINE_FIELDS))
    if unknown:
        raise ImproperlyConfigured(f"HOTLINE_COLUMNS maps to unknown field(s) {', '.join(unknown)}.")
    return {header.strip(): target for header, target in columns.items()}


def _missing_columns(header: Iterable[str], columns: Mapping[str, str]) -> list[str]:
    present = {columns[name] for name in header if name in columns}
    by_field = {target: name for name, target in columns.items()}
    return [by_field.get(target, target) for target in REQUIRED_FIELDS if target not in present]


def _records(table: list[tuple[int, list[Any]]], columns: Mapping[str, str]) -> list[tuple[int, dict[str, Any]]]:
    """(row number, {field: raw value}) for every non-blank data row, after finding the header."""
    candidates = [(number, row) for number, row in table[:HEADER_SCAN_ROWS] if any(not _blank(v) for v in row)]
    if not candidates:
        raise DomainError(_("The file is empty."), code="empty_file")
    header_at, header = None, None
    for position, (_number, row) in enumerate(candidates):
        names = [_header_name(value) for value in row]
        if not _missing_columns(names, columns):
            header_at, header = position, names
            break
    if header is None:
        missing = _missing_columns([_header_name(v) for v in candidates[0][1]], columns)
        raise DomainError(
            _("Required column(s) missing: %(columns)s.") % {"columns": "、".join(missing)},
            code="missing_columns",
            extra={"missing": missing},
        )
    header_number = candidates[header_at][0]
    positions = {columns[name]: index for index, name in enumerate(header) if name in columns}
    records = []
    for number, row in table:
        if number <= header_number or all(_blank(value) for value in row):
            continue
        records.append(
            (number, {target: row[index] if index < len(row) else None for target, index in positions.items()})
        )
    return records


def _mapped_rows(rows: Iterable[Mapping[str, Any]], columns: Mapping[str, str]) -> list[tuple[int, dict[str, Any]]]:
    """Rows already split into {column header: value}, numbered as if under a header row."""
    rows = list(rows)
    header = [_header_name(name) for name in (rows[0].keys() if rows else columns.keys())]
    missing = _missing_columns(header, columns)
    if missing:
        raise DomainError(
            _("Required column(s) missing: %(columns)s.") % {"columns": "、".join(missing)},
            code="missing_columns",
            extra={"missing": missing},
        )
    records = []
    for number, row in enumerate(rows, start=2):
        values = {columns[_header_name(name)]: value for name, value in row.items() if _header_name(name) in columns}
        if any(not _blank(value) for value in values.values()):
            records.append((number, values))
    return records


# --- Cleaning one row ------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps long digit strings (phones, order numbers) as numbers
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value).strip()


def first_phone(value: Any) -> str:
    """The first number of a cell that may list several, in normal form."""
    text = _text(value)
    return normalize_phone(PHONE_SEPARATORS.split(text)[0] if text else "")


def parse_received_at(value: Any, *, column: str = "") -> datetime | None:
    """An aware datetime from an Excel date cell, an Excel serial number or common text formats.

    `column` names the cell in messages as the file names it (its header, e.g. 来电时间).
    """
    column = column or next((h for h, f in _columns().items() if f == "received_at"), "received_at")
    if _blank(value):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, int | float) and not isinstance(value, bool):
        from openpyxl.utils.datetime import from_excel

        try:
            moment = from_excel(value)
        except (ValueError, OverflowError):
            raise RowError(_("%(column)s %(value)s is not a date.") % {"column": column, "value": value}) from None
        if not isinstance(moment, datetime):
            raise RowError(_("%(column)s %(value)s is not a date.") % {"column": column, "value": value})
    else:
        text = re.sub(r"\s+", " ", str(value).strip())
        for pattern in DATETIME_FORMATS:
            try:
                moment = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
        else:
            raise RowError(
                _("%(column)s “%(value)s” is not in a known format (e.g. 2026-11-23 09:15:00).")
                % {"column": column, "value": text}
            )
    if timezone.is_naive(moment):
        try:
            moment = timezone.make_aware(moment.replace(microsecond=0))
        except (OverflowError, ValueError):
            raise RowError(
                _("%(column)s %(value)s is not a date.") % {"column": column, "value": _text(value)}
            ) from None
    if message := date_window_error(moment):
        raise RowError(_("%(column)s: %(problem)s") % {"column": column, "problem": message})
    if moment > timezone.now() + FUTURE_TOLERANCE:
        raise RowError(_("%(column)s %(value)s lies in the future.") % {"column": column, "value": _text(value)})
    return moment


def _coordinate(value: Any, label: str) -> float | None:
    if _blank(value):
        return None
    try:
        return float(str(value).strip())
    except ValueError:
        raise RowError(_("%(column)s “%(value)s” is not a number.") % {"column": label, "value": value}) from None


class CategoryMatcher:
    """Active sub-classes by code, by unique name and by "class/sub-class" name, loaded once."""

    def __init__(self) -> None:
        self.by_code: dict[str, Category] = {}
        self.by_name: dict[str, list[Category]] = {}
        self.by_path: dict[tuple[str, str], Category] = {}
        subclasses = Category.objects.filter(is_active=True, parent__isnull=False, parent__is_active=True)
        for category in subclasses.select_related("parent"):
            self.by_code[category.code] = category
            self.by_name.setdefault(category.name, []).append(category)
            self.by_path[(category.parent.name, category.name)] = category

    def match(self, value: Any) -> Category | None:
        text = _text(value)
        if not text:
            return None
        if text in self.by_code:
            return self.by_code[text]
        named = self.by_name.get(text, [])
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            raise RowError(
                _("The category “%(value)s” is ambiguous; give its code or “class/sub-class”.") % {"value": text}
            )
        parts = CATEGORY_SEPARATORS.split(text, maxsplit=1)
        if len(parts) == 2 and tuple(parts) in self.by_path:
            return self.by_path[tuple(parts)]
        raise RowError(_("Unknown category “%(value)s”.") % {"value": text})


def _submission(values: Mapping[str, Any], categories: CategoryMatcher, labels: Mapping[str, str]) -> dict[str, Any]:
    """The keyword arguments of `petition_submit` for one row, or RowError with every problem.

    Messages name each cell by the column header of the file (`labels`: field → header).
    """
    problems: list[str] = []
    for name, value in values.items():
        if isinstance(value, str) and has_control_characters(value):
            problems.append(
                _("The column %(column)s contains control characters (such as NUL).")
                % {"column": labels.get(name, name)}
            )

    def attempt(function, *args):
        try:
            return function(*args)
        except RowError as error:
            problems.append(str(error))
            return None

    description = _text(values.get("description"))
    if not description:
        problems.append(_("%(column)s is empty.") % {"column": labels.get("description", "description")})
    title = _text(values.get("title")) or description[:TITLE_FROM_DESCRIPTION]
    urgency_text = _text(values.get("urgency"))
    urgency = URGENCY.get(urgency_text or "一般")
    if urgency is None:
        problems.append(_("Unknown urgency “%(value)s”; use 一般, 紧急 or 特急.") % {"value": urgency_text})
    received_at = attempt(
        lambda value: parse_received_at(value, column=labels["received_at"]), values.get("received_at")
    )
    lon = attempt(_coordinate, values.get("lon"), labels.get("lon", "lon"))
    lat = attempt(_coordinate, values.get("lat"), labels.get("lat", "lat"))
    category = attempt(categories.match, values.get("category"))
    submission = {
        "title": title,
        "description": description,
        "contact_name": _text(values.get("contact_name")),
        "contact_phone": first_phone(values.get("contact_phone")),
        "address": _text(values.get("address")),
        "category": category,
        "urgency": urgency,
        "lon": lon,
        "lat": lat,
        "created_at": received_at,
    }
    for name, limit in MAX_LENGTHS.items():
        if len(submission.get(name, "")) > limit:
            problems.append(
                _("%(column)s is longer than %(limit)d characters.")
                % {"column": labels.get(name, name), "limit": limit}
            )
    if problems:
        raise RowError(*problems)
    return submission


@dataclass
class _Row:
    number: int
    order_no: str
    submission: dict[str, Any] | None = None
    error: RowResult | None = None


def _clean_row(
    number: int, values: Mapping[str, Any], *, categories: CategoryMatcher, labels: Mapping[str, str]
) -> _Row:
    """The row checked and turned into `petition_submit` arguments; writes nothing."""
    order_no = _text(values.get("order_no"))
    column = labels.get("order_no", "order_no")
    if not order_no:
        return _Row(
            number,
            "",
            error=RowResult(number, "", Outcome.ERROR, messages=[_("%(column)s is empty.") % {"column": column}]),
        )
    if has_control_characters(order_no):
        message = _("The column %(column)s contains control characters (such as NUL).") % {"column": column}
        return _Row(number, "", error=RowResult(number, "", Outcome.ERROR, messages=[message]))
    if len(order_no) > MAX_LENGTHS["order_no"]:
        message = _("%(column)s is longer than %(limit)d characters.") % {
            "column": column,
            "limit": MAX_LENGTHS["order_no"],
        }
        return _Row(number, order_no, error=RowResult(number, order_no[:64], Outcome.ERROR, messages=[message]))
    try:
        return _Row(number, order_no, submission=_submission(values, categories, labels))
    except RowError as error:
        return _Row(
            number, order_no, error=RowResult(number, order_no, Outcome.ERROR, messages=[str(p) for p in error.args])
        )


def _write_row(row: _Row, *, actor: Any) -> RowResult:
    number, order_no = row.number, row.order_no
    # Checked before the row's own problems: an order imported earlier stays "skipped" even if its
    # row would no longer pass (a category retired since, say).
    existing = Petition.objects.filter(channel=Channel.HOTLINE, external_ref=order_no).only("tracking_no").first()
    if existing is not None:
        return RowResult(number, order_no, Outcome.SKIPPED, existing.tracking_no, [_("Already imported.")])
    if row.error is not None:
        return row.error
    try:
        result = petition_submit(
            channel=Channel.HOTLINE, external_ref=order_no, actor=actor, actor_label=ACTOR_LABEL, **row.submission
        )
    except DomainError as error:
        fields = error.extra.get("fields") or {}
        return RowResult(number, order_no, Outcome.ERROR, messages=[str(m) for m in fields.values()] or [error.message])
    if not result.created:  # a concurrent import of the same order got there first
        return RowResult(number, order_no, Outcome.SKIPPED, result.petition.tracking_no, [_("Already imported.")])
    return RowResult(number, order_no, Outcome.CREATED, result.petition.tracking_no)


class _RollBack(Exception):
    pass


def hotline_import(
    *,
    file: str | Path | bytes | BinaryIO | None = None,
    rows: Iterable[Mapping[str, Any]] | None = None,
    fmt: str | None = None,
    actor: Any = None,
    all_or_nothing: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> ImportReport:
    """Import hotline work orders from `file` (CSV or XLSX) or from `rows` keyed by column header.

    `fmt` is "csv" or "xlsx"; without it the file name or content decides. Raises DomainError for
    a file-level problem before writing anything; row problems are in the report. With
    `all_or_nothing` any failed row leaves the database as it was (`report.committed` is False)
    and any other exception rolls the whole file back. `progress(phase, done, total)` is called every
    PROGRESS_EVERY rows, while checking the rows and while writing them.
    """
    if (file is None) == (rows is None):
        raise TypeError("hotline_import takes either file or rows")
    if fmt is not None and fmt not in FORMATS:
        raise DomainError(_("Unknown format “%(fmt)s”; use csv or xlsx.") % {"fmt": fmt}, code="bad_format")
    columns = _columns()
    if rows is not None:
        records = _mapped_rows(rows, columns)
    else:
        data, name = _read_bytes(file)
        if not data.strip():
            raise DomainError(_("The file is empty."), code="empty_file")
        fmt = fmt or _guess_format(data, name)
        table = _xlsx_rows(data) if fmt == XLSX else _csv_rows(data)
        records = _records(table, columns)
    categories = CategoryMatcher()
    labels = {field: header for header, field in columns.items()}
    labels.setdefault("received_at", "received_at")
    total = len(records)
    cleaned = []
    for done, (number, values) in enumerate(records, start=1):
        cleaned.append(_clean_row(number, values, categories=categories, labels=labels))
        if progress and done % PROGRESS_EVERY == 0:
            progress(Phase.CHECKING, done, total)
    report = ImportReport()
    if not all_or_nothing:
        _write_rows(cleaned, report, actor=actor, progress=progress)
        return report
    try:
        with transaction.atomic():
            _write_rows(cleaned, report, actor=actor, progress=progress)
            if report.failed:
                raise _RollBack
    except _RollBack:
        report.committed = False
        for result in report.rows:
            if result.outcome == Outcome.CREATED:
                result.outcome, result.tracking_no = Outcome.NOT_STORED, ""
                result.messages = [
                    _("Not stored: other rows of the file failed, and the file is stored whole or not at all.")
                ]
    return report


def _write_rows(
    cleaned: list[_Row], report: ImportReport, *, actor: Any, progress: Callable[[str, int, int], None] | None
) -> None:
    total = len(cleaned)
    for done, row in enumerate(cleaned, start=1):
        report.rows.append(_write_row(row, actor=actor))
        if progress and done % PROGRESS_EVERY == 0:
            progress(Phase.WRITING, done, total)
