"""The staff worklist's row facts and its spreadsheet: the SLA colour, the time left in words, the XLSX.

Time left is counted on the project's working calendar (`governance.workcalendar`): a normal
petition's limit runs in working time, so "2 working days 3 hours left" skips nights, weekends and
holidays; an emergency's runs around the clock. Past the deadline the delay is clock time.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from html import escape as html_escape
from typing import Any

from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from appeals.models import TIMED_STATUSES, Petition, Urgency
from appeals.privacy import MASKED, contact_access, contact_fields_for
from governance.accesslog import AccessRecord, access_log_write, access_record
from governance.exports import safe_row
from governance.models import AccessReason
from governance.workcalendar import (
    CALENDAR_TZ,
    CalendarRangeError,
    working_periods,
    working_time_between,
    working_time_span,
)

# SLA levels, from the share of the time limit still left (Bootstrap colours in petitions.css).
SLA_OK, SLA_WARN, SLA_URGENT, SLA_OVERDUE, SLA_NONE = "ok", "warn", "urgent", "overdue", "none"
WARN_BELOW = 0.5
URGENT_BELOW = 0.2


@dataclass(frozen=True)
class Sla:
    level: str
    words: str

    @property
    def label(self) -> str:
        return _sla_labels().get(self.level, "")


# The SLA labels per language: a list page shows one per row (four translations a call otherwise).
_SLA_LABELS: dict[str | None, dict[str, str]] = {}


def _sla_labels() -> dict[str, str]:
    language = get_language()
    labels = _SLA_LABELS.get(language)
    if labels is None:
        labels = _SLA_LABELS[language] = {
            SLA_OK: _("On time"),
            SLA_WARN: _("Half the time used"),
            SLA_URGENT: _("Due soon"),
            SLA_OVERDUE: _("Overdue"),
        }
    return labels


def _working_day() -> timedelta:
    return sum(
        (
            datetime.combine(datetime.min, end) - datetime.combine(datetime.min, start)
            for start, end in working_periods()
        ),
        timedelta(0),
    )


def duration_words(span: timedelta, *, working: bool) -> str:
    """`span` as days (working days of the calendar's working hours, or 24 h), hours and minutes."""
    minutes = max(int(span.total_seconds() // 60), 0)
    day_minutes = int(_working_day().total_seconds() // 60) if working else 24 * 60
    return _duration_words(minutes, day_minutes, working, get_language())


@lru_cache(maxsize=4096)
def _duration_words(minutes: int, day_minutes: int, working: bool, language: str | None) -> str:
    """The words for a number of minutes in `language` (the active one: the key of what it says)."""
    days, rest = divmod(minutes, day_minutes or 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = []
    if days:
        parts.append(
            ngettext("%(n)s working day", "%(n)s working days", days) % {"n": days}
            if working
            else ngettext("%(n)s day", "%(n)s days", days) % {"n": days}
        )
    if hours:
        parts.append(ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours})
    if minutes and not days:
        parts.append(ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes})
    return " ".join(parts) or _("under a minute")


def sla_for(petition: Petition, now: datetime | None = None) -> Sla:
    """The SLA colour and the time left (or overdue) of a row; SLA_NONE when no clock runs."""
    now = now or timezone.now()
    if petition.status not in TIMED_STATUSES:
        return Sla(SLA_NONE, "")
    deadline = petition.deadline_at
    if deadline is None:
        # Escalated on its deadline to the district, where no tier is above: the clock stopped late.
        return Sla(SLA_OVERDUE, _("Overdue")) if petition.escalated_on_deadline else Sla(SLA_NONE, "")
    if deadline <= now:
        return Sla(SLA_OVERDUE, _("Overdue by %(time)s") % {"time": duration_words(now - deadline, working=False)})
    working = petition.urgency != Urgency.EMERGENCY
    start = petition.clock_started_at or petition.created_at
    try:
        if working:
            left, allowed = working_time_between(now, deadline), working_time_span(start, deadline)
        else:
            left, allowed = deadline - now, deadline - start
    except CalendarRangeError:  # a deadline years away: a data error, shown without a share
        left, allowed = deadline - now, timedelta(0)
    share = left / allowed if allowed > timedelta(0) else 1.0
    level = SLA_OK if share >= WARN_BELOW else SLA_WARN if share >= URGENT_BELOW else SLA_URGENT
    return Sla(level, _("%(time)s left") % {"time": duration_words(left, working=working)})


# --- XLSX export -----------------------------------------------------------------------------------

# More rows than this is not a worklist any more: the page asks to narrow the filter.
EXPORT_MAX_ROWS = 10_000
EXPORT_PERSONAL = ("contact_name", "contact_phone", "title", "address")


def _local(moment: datetime | None) -> str:
    return moment.astimezone(CALENDAR_TZ).strftime("%Y-%m-%d %H:%M") if moment else ""


def export_headers() -> list[str]:
    return [
        _("Tracking number"),
        _("Submitted at"),
        _("Title"),
        _("Class"),
        _("Category"),
        _("Channel"),
        _("Status"),
        _("Tier"),
        _("Handler"),
        _("Deadline"),
        _("Time left"),
        _("Address"),
        _("Contact name"),
        _("Contact phone"),
        _("Supervised"),
        _("Repeats"),
    ]


def worklist_xlsx(user: Any, petitions: Iterable[Petition], *, request: Any = None) -> bytes:
    """The rows as an XLSX workbook, masked as `user` may see them (`appeals.privacy`), every cell
    escaped against formulas (`governance.exports`), every exported row written to the access log
    (reason `export`: the personal fields exported, masked ones marked `:masked`)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Petitions"))
    sheet.append(export_headers())
    now = timezone.now()
    records: list[AccessRecord] = []
    for petition in petitions:
        unmasked: list[AccessRecord] = []
        shown = contact_fields_for(user, petition, EXPORT_PERSONAL, reason=AccessReason.EXPORT, pending=unmasked)
        masked = contact_access(user, petition) == MASKED
        fields = tuple(f"{name}:masked" if masked else name for name in EXPORT_PERSONAL)
        records.append(access_record(petition, fields, record=petition.tracking_no))
        category = petition.category
        handler = (
            petition.handler_department.name
            if petition.status == "dispatched" and petition.handler_department_id
            else (petition.handler_area.name if petition.handler_area_id else "")
        )
        sheet.append(
            safe_row(
                [
                    petition.tracking_no,
                    _local(petition.created_at),
                    shown["title"],
                    category.parent.name if category and category.parent else "",
                    category.name if category else "",
                    petition.get_channel_display(),
                    petition.get_status_display(),
                    petition.get_tier_display() or "",
                    handler,
                    _local(petition.deadline_at),
                    sla_for(petition, now).words,
                    shown["address"],
                    shown["contact_name"],
                    shown["contact_phone"],
                    _("Yes") if petition.supervised else "",
                    petition.repeat_count,
                ]
            )
        )
    access_log_write(user=user, reason=AccessReason.EXPORT, records=records, request=request)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- The list's rows, drawn in Python ----------------------------------------------------------
# The page draws up to 100 rows of ten cells; through template tags that is ~0.5 ms a row (a
# translation lookup per label, a URL reversal per link). The same markup from format_html costs a
# tenth: the labels are translated once per page, the URL is the detail prefix plus the number.


def row_labels() -> dict[str, str]:
    """The column labels `row_html` repeats in every cell (`data-label`), and the names of the
    statuses and tiers and the tick box's label it repeats in rows, translated and HTML-escaped
    once per language and process (the catalogues do not change while it runs)."""
    return _row_labels_in(get_language())


@lru_cache(maxsize=8)
def _row_labels_in(language: str | None) -> dict[str, str]:
    labels = {key: esc(label) for key, label in _row_labels().items()}
    field = Petition._meta.get_field
    labels.update({f"status:{value}": esc(label) for value, label in field("status").flatchoices})
    labels.update({f"tier:{value}": esc(label) for value, label in field("tier").flatchoices})
    labels["select"] = esc(_("Select %(no)s"))
    return labels


def _row_labels() -> dict[str, str]:
    return {
        "no": _("Tracking number"),
        "title": _("Title"),
        "category": _("Category"),
        "status": _("Status"),
        "tier": _("Tier"),
        "handler": _("Handler"),
        "deadline": _("Deadline"),
        "left": _("Time left"),
        "created": _("Submitted at"),
        "supervised": _("Supervised"),
    }


def _short_time(moment: datetime | None) -> str:
    return moment.astimezone(CALENDAR_TZ).strftime("%m-%d %H:%M") if moment else ""


# A row's cells but the time left, kept by everything they are drawn from: a list redrawn is mostly
# the same petitions in the same state (a refresh, the next click back), and drawing their
# escaped, masked cells costs more than reading them. The time left is drawn afresh every time.
ROW_CELLS_KEPT = 4096
_row_cells: dict[tuple, tuple[str, str]] = {}


def row_html(
    petition: Petition,
    sla: Sla,
    *,
    can_accept: bool,
    labels: dict[str, str],
    detail_prefix: str,
    tab: str,
    categories: dict[int, Any],
    departments: dict[int, str],
):
    """One `<tr>` of the worklist table (petition_list.html explains the columns). Every value is
    escaped with `html.escape` (quotes too; `labels` come escaped from `row_labels`); the result is
    marked safe once. The category and the department are looked up in `categories` (id → Category
    with its parent) and `departments` (id → name): the page's query does not join them."""
    from django.utils.safestring import mark_safe

    p = petition
    category = categories.get(p.category_id) if p.category_id else None
    if p.status == "dispatched" and p.handler_department_id:
        handler = departments.get(p.handler_department_id, "—")
    else:
        handler = p.handler_area.name if p.handler_area_id else "—"
    sweep = (p.sweep_failed_at, p.sweep_error) if p.sweep_failed_at and tab == "sweep_failed" else None
    key = (
        get_language(),  # `labels` are `row_labels()`, the language's
        detail_prefix,
        can_accept,
        p.tracking_no,
        p.title,
        p.supervised,
        p.repeat_count,
        sweep,
        (category.name, category.parent.name if category.parent is not None else None) if category else None,
        p.status,
        p.tier,
        handler,
        p.deadline_at,
        p.created_at,
    )
    cells = _row_cells.get(key)
    if cells is None:
        cells = _row_cells_drawn(p, can_accept, labels, detail_prefix, sweep, category, handler)
        if len(_row_cells) >= ROW_CELLS_KEPT:
            _row_cells.clear()
        _row_cells[key] = cells
    before, after = cells
    left = (
        f'<span class="sla sla-{esc(sla.level)}" title="{esc(sla.label)}">{esc(sla.words)}</span>' if sla.words else ""
    )
    row_class = f"sla-row sla-row-{sla.level}" + (" overdue" if p.overdue else "")
    return mark_safe(f'<tr class="{row_class}">{before}{_td("left", labels["left"], left)}{after}</tr>')


def _row_cells_drawn(
    p: Petition,
    can_accept: bool,
    labels: dict[str, str],
    detail_prefix: str,
    sweep: tuple[datetime, str] | None,
    category: Any,
    handler: str,
) -> tuple[str, str]:
    """The row's cells before the time left and after it."""
    from governance.privacy import mask_text

    number = esc(p.tracking_no)
    checkbox = (
        f'<input class="form-check-input" type="checkbox" name="petition" value="{number}" '
        f'aria-label="{labels["select"] % {"no": number}}">'
        if can_accept
        else ""
    )
    title = esc(mask_text(p.title))
    if p.supervised:
        title += f' <span class="badge text-bg-warning">{labels["supervised"]}</span>'
    if p.repeat_count:
        repeats = ngettext("%(n)s repeat", "%(n)s repeats", p.repeat_count) % {"n": p.repeat_count}
        title += f' <span class="badge text-bg-light border">{esc(repeats)}</span>'
    if sweep is not None:
        title += f'<br><small class="sweep-error">{esc(_short_time(sweep[0]))} {esc(sweep[1])}</small>'
    if category is None:
        category_html = "—"
    elif category.parent is not None:
        category_html = f'<small class="text-muted">{esc(category.parent.name)} · </small>{esc(category.name)}'
    else:
        category_html = esc(category.name)
    status_name = labels.get(f"status:{p.status}") or esc(p.get_status_display())
    status = f'<span class="status status-{esc(p.status)}">{status_name}</span>'
    before = (
        ("no", "no", f'<a href="{esc(detail_prefix)}{number}/">{number}</a>'),
        ("title", "title", title),
        ("", "category", category_html),
        ("", "status", status),
        ("", "tier", labels.get(f"tier:{p.tier}") or esc(p.get_tier_display() or "—")),
        ("", "handler", esc(handler)),
        ("deadline", "deadline", esc(_short_time(p.deadline_at))),
    )
    after = (("created", "created", esc(_short_time(p.created_at))),)
    return (
        f'<td class="sel">{checkbox}</td>' + "".join(_td(css, labels[key], content) for css, key, content in before),
        "".join(_td(css, labels[key], content) for css, key, content in after),
    )


def row_cells_clear() -> None:
    _row_cells.clear()


def _td(css: str, label: str, content: str) -> str:
    css_attr = f' class="{css}"' if css else ""
    return f'<td{css_attr} data-label="{label}">{content}</td>'


def esc(value: object) -> str:
    return html_escape(str(value), quote=True)
