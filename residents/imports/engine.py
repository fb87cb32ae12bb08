"""The import pipeline, the same for every kind: read → clean each row → match → plan → (write).

`check_file` reads the job's upload with its mapping and returns a `CheckResult`: one `RowPlan`
per data row with its problems, or what it would do (create, update with the changed fields, or
nothing). It writes nothing. `write_plans` hands the plans to the kind's writer inside the
caller's transaction; any refusal raises and the caller's transaction rolls everything back.
The kinds (what a row of residents, houses or buildings means) live in `residents.imports.kinds`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils.translation import gettext as _

from governance.errors import DomainError
from governance.inputs import has_control_characters
from residents.imports import mapping as m
from residents.imports import problems as p
from residents.imports.reading import blank, cell_text, read_table
from residents.models.imports import ImportJob, ImportRow, RowAction

# How often (rows) a run reports its progress.
PROGRESS_EVERY = 2000
# Report rows kept per problem code and per change kind; the counts are always complete.
REPORT_ROWS_PER_GROUP = 100_000
UNCHANGED = "unchanged"

Progress = Callable[[str, int, int], None]


class ImportRefused(Exception):
    """A service refused a row while writing: the whole file rolls back."""


@dataclass
class RowPlan:
    row: int
    label: str = ""
    key: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    target: Any = None  # the existing record it updates
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)  # field → (old, new), as shown
    problems: list[p.Problem] = field(default_factory=list)

    @property
    def action(self) -> str:
        if self.problems:
            return RowAction.PROBLEM
        if self.target is None:
            return RowAction.CREATE
        return RowAction.UPDATE if self.changes else UNCHANGED

    def problem(self, code: str, column: str, **params: Any) -> None:
        self.problems.append(p.Problem(code=code, column=column, params=params))


@dataclass
class CheckResult:
    kind: str
    plans: list[RowPlan]
    written: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return len(self.plans)

    @property
    def problem_rows(self) -> int:
        return sum(1 for plan in self.plans if plan.problems)

    def counts(self) -> dict[str, int]:
        counts = {RowAction.CREATE: 0, RowAction.UPDATE: 0, UNCHANGED: 0, RowAction.PROBLEM: 0}
        for plan in self.plans:
            counts[plan.action] += 1
        return {str(key): value for key, value in counts.items()}

    def problems_by_code(self) -> dict[str, int]:
        by_code: dict[str, int] = {}
        for plan in self.plans:
            for problem in plan.problems:
                by_code[problem.code] = by_code.get(problem.code, 0) + 1
        return {code: by_code[code] for code in p.ORDER if code in by_code}

    def summary(self) -> dict[str, Any]:
        counts = self.counts()
        return {
            "rows": self.rows,
            "create": counts["create"],
            "update": counts["update"],
            "unchanged": counts[UNCHANGED],
            "problem_rows": counts["problem"],
            "problems": self.problems_by_code(),
            "written": self.written,
        }

    def report_rows(self, job: ImportJob) -> list[ImportRow]:
        rows: list[ImportRow] = []
        kept: dict[tuple[str, str], int] = {}
        for plan in self.plans:
            if plan.problems:
                for problem in plan.problems:
                    group = (RowAction.PROBLEM, problem.code)
                    kept[group] = kept.get(group, 0) + 1
                    if kept[group] <= REPORT_ROWS_PER_GROUP:
                        rows.append(
                            ImportRow(
                                job=job,
                                row=plan.row,
                                action=RowAction.PROBLEM,
                                code=problem.code,
                                label=plan.label[:200],
                                detail={"column": problem.column, "params": problem.params},
                            )
                        )
            elif plan.action in (RowAction.CREATE, RowAction.UPDATE):
                group = (plan.action, "")
                kept[group] = kept.get(group, 0) + 1
                if kept[group] <= REPORT_ROWS_PER_GROUP:
                    rows.append(
                        ImportRow(
                            job=job,
                            row=plan.row,
                            action=plan.action,
                            label=plan.label[:200],
                            detail={"changes": {name: list(pair) for name, pair in plan.changes.items()}},
                        )
                    )
        return rows


# --- Cleaning cells ----------------------------------------------------------------------------------


class Cells:
    """One row's mapped cells, cleaned field by field; every problem lands on the row's plan."""

    def __init__(self, plan: RowPlan, raw: dict[str, Any], columns: dict[str, str]):
        self.plan, self.raw, self.columns = plan, raw, columns

    def column(self, name: str) -> str:
        return self.columns.get(name, name)

    def present(self, name: str) -> bool:
        return name in self.raw and not blank(self.raw[name])

    def text(self, name: str, *, max_length: int, required: bool = False) -> str:
        value = cell_text(self.raw.get(name))
        if "\n" not in value:
            value = " ".join(value.split())
        if not value:
            if required:
                self.plan.problem(p.MISSING_VALUE, self.column(name))
            return ""
        if has_control_characters(value):
            self.plan.problem(p.CONTROL_CHARACTERS, self.column(name))
            return ""
        if len(value) > max_length:
            self.plan.problem(p.TOO_LONG, self.column(name), max=max_length)
            return ""
        return value

    def choice(self, name: str, choices: dict[str, str], *, shown: list[str]) -> str | None:
        """The stored value of a cell that must be one of `choices` (labels and values); None: empty."""
        value = self.text(name, max_length=50)
        if not value:
            return None
        folded = value.replace(" ", "").lower()
        if folded in choices:
            return choices[folded]
        self.plan.problem(p.BAD_CHOICE, self.column(name), value=value, choices="、".join(shown))
        return None

    def integer(self, name: str, *, low: int, high: int) -> int | None:
        value = self.raw.get(name)
        if blank(value):
            return None
        text = cell_text(value)
        try:
            number = int(float(text)) if re.fullmatch(r"-?\d+(\.0+)?", text) else int(text)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            self.plan.problem(p.BAD_NUMBER, self.column(name), value=text, low=low, high=high)
            return None
        return number

    def date(self, name: str, *, earliest: date = date(1900, 1, 1), latest: date | None = None) -> date | None:
        value = self.raw.get(name)
        if blank(value):
            return None
        parsed = parse_date(value)
        latest = latest or date.today()
        if parsed is None or not earliest <= parsed <= latest:
            self.plan.problem(p.BAD_DATE, self.column(name), value=cell_text(value))
            return None
        return parsed


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S")


def parse_date(value: Any) -> date | None:
    """A date from an Excel date cell, an Excel serial number or the usual Chinese ways of writing one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 1 <= value < 2958466:  # Excel's serial range
            return None
        from openpyxl.utils.datetime import from_excel

        try:
            moment = from_excel(value)
        except (ValueError, OverflowError):
            return None
        return moment.date() if isinstance(moment, datetime) else moment if isinstance(moment, date) else None
    text = str(value).strip().replace("／", "/").replace("－", "-")
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


# --- The pipeline ------------------------------------------------------------------------------------


def check_file(job: ImportJob, *, progress: Progress | None = None) -> CheckResult:
    """Every row's plan or problems; a file-level problem raises DomainError. Writes nothing."""
    from residents.imports.kinds import handler_for

    table = read_table(
        bytes(job.content), file_name=job.file_name, fmt=job.file_format, header_hint=list(job.mapping.values())
    )
    mapping = {name: column for name, column in job.mapping.items() if column}
    problems = m.mapping_problems(job.kind, table.header, mapping)
    if problems:
        raise DomainError(" ".join(problems), code="missing_columns", extra={"problems": problems})
    positions = {name: table.header.index(column) for name, column in mapping.items()}
    handler = handler_for(job)
    total = len(table.rows)
    if progress:
        progress("checking", 0, total)
    plans = []
    for done, (number, cells) in enumerate(table.rows, start=1):
        raw = {name: cells[index] if index < len(cells) else None for name, index in positions.items()}
        plan = RowPlan(row=number)
        handler.clean(Cells(plan, raw, mapping), plan)
        plans.append(plan)
        if progress and done % PROGRESS_EVERY == 0:
            progress("checking", done, total)
    _mark_duplicates(plans, handler)
    if progress:
        progress("matching", total, total)
    handler.resolve(plans)
    return CheckResult(kind=job.kind, plans=plans)


def _mark_duplicates(plans: list[RowPlan], handler: Any) -> None:
    first_row: dict[str, int] = {}
    for plan in plans:
        if not plan.key:
            continue
        if plan.key in first_row:
            plan.problem(
                p.DUPLICATE_IN_FILE,
                handler.key_column,
                value=handler.key_shown(plan),
                other=first_row[plan.key],
            )
        else:
            first_row[plan.key] = plan.row
    for extra in getattr(handler, "unique_in_file", ()):
        seen: dict[str, int] = {}
        for plan in plans:
            value = plan.values.get(extra)
            if not value or plan.problems:
                continue
            if value in seen:
                plan.problem(p.DUPLICATE_IN_FILE, handler.column(extra), value=value, other=seen[value])
            else:
                seen[value] = plan.row


def write_plans(job: ImportJob, result: CheckResult, *, actor: Any, progress: Progress | None = None) -> None:
    """Write every create and update; call inside a transaction (a refusal raises ImportRefused)."""
    from residents.imports.kinds import handler_for

    if result.problem_rows:
        raise ImportRefused(_("The file has rows with problems; nothing was imported."))
    handler = handler_for(job)
    result.written = handler.write(
        [plan for plan in result.plans if plan.action in (RowAction.CREATE, RowAction.UPDATE)],
        actor=actor,
        progress=progress,
    )
