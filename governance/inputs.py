"""What a client-supplied value must be before it is stored: no control characters, a sane date.

The middleware (`governance.middleware.InputGuardMiddleware`) applies the control-character rule to
every request; importers apply both rules to every cell, since an uploaded file passes the
middleware untouched.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

# C0 controls except tab, line feed and carriage return; DEL; the C1 block.
TEXT_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Query filters may reach past today (created_before=2030-01-01), never past a computable year.
FILTER_LATEST = date(2100, 1, 1)


def has_control_characters(value: str) -> bool:
    return bool(TEXT_CONTROL_RE.search(value))


def earliest_moment() -> datetime:
    return timezone.make_aware(datetime.combine(settings.EARLIEST_DATE, time.min))


def latest_moment() -> datetime:
    """The end of tomorrow, local time: a clock a little ahead is fine, a date days ahead is a typo."""
    tomorrow = timezone.localdate() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(tomorrow, time.max))


def date_window_error(moment: datetime) -> str:
    """A message when `moment` (aware) lies outside [EARLIEST_DATE, end of tomorrow], else ""."""
    if moment < earliest_moment() or moment > latest_moment():
        return _("%(value)s lies outside the accepted dates (%(start)s to %(end)s).") % {
            "value": date_format(timezone.localtime(moment), "Y-m-d H:i"),
            "start": date_format(settings.EARLIEST_DATE, "Y-m-d"),
            "end": date_format(timezone.localdate(latest_moment()), "Y-m-d"),
        }
    return ""


def filter_date_error(moment: datetime) -> str:
    """A message when a query bound cannot be a date of this system's data, else ""."""
    if moment < earliest_moment() or moment.date() >= FILTER_LATEST:
        return _("Dates must lie between %(start)s and %(end)s.") % {
            "start": date_format(settings.EARLIEST_DATE, "Y-m-d"),
            "end": date_format(FILTER_LATEST, "Y-m-d"),
        }
    return ""
