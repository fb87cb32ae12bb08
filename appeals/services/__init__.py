"""Everything that writes petitions: one function per lifecycle transition.

The package is split by sub-domain (intake, handling, dispatch, outcome, sweeps); import the
services from here.
"""

from appeals.services.dispatch import assignment_reply, assignment_report_in, petition_whistle
from appeals.services.handling import (
    petition_accept,
    petition_ask_extension,
    petition_decide_extension,
    petition_escalate,
    petition_handle,
    petition_note_progress,
    petition_reply,
    petition_return,
    petition_supervise,
    petition_urge,
)
from appeals.services.intake import (
    Submission,
    link_repeat,
    petition_place,
    petition_route,
    petition_submit,
    petition_transfer,
)
from appeals.services.outcome import petition_callback, petition_close, petition_merge, petition_rate, petition_reopen
from appeals.services.sweeps import (
    petitions_close_unrated,
    petitions_escalate_overdue,
    petitions_route_unrouted,
    petitions_send_reminders,
)

__all__ = [
    "Submission",
    "assignment_reply",
    "assignment_report_in",
    "link_repeat",
    "petition_accept",
    "petition_ask_extension",
    "petition_callback",
    "petition_close",
    "petition_decide_extension",
    "petition_escalate",
    "petition_handle",
    "petition_merge",
    "petition_note_progress",
    "petition_place",
    "petition_transfer",
    "petition_rate",
    "petition_reopen",
    "petition_reply",
    "petition_return",
    "petition_route",
    "petition_submit",
    "petition_supervise",
    "petition_urge",
    "petition_whistle",
    "petitions_close_unrated",
    "petitions_escalate_overdue",
    "petitions_route_unrouted",
    "petitions_send_reminders",
]
