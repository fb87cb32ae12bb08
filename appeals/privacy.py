"""Personal data of petitions: who sees it unmasked, how it is masked, and the log of every view.

The rule (docs/permissions.md):

* the resident who filed the petition sees their own details;
* the unit that handles the petition now sees them in full, because it must call the resident:
  staff posted at grid or community tier whose area contains the handling area (the grid worker of
  the grid, the community that supervises it), and the staff of the lead department while the
  petition is dispatched to it;
* everybody else — streets, the district, administrators, assisting departments, other grids —
  sees `138******00`, `张**` and free text with phones, ID numbers and names masked.

The maskers are `governance.privacy`'s. Every unmasked view by staff of a value that holds personal
data is written to the access log (`governance.accesslog`: user, petition, field, reason, IP).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from appeals.models import Petition
from appeals.policy import HANDLER, MASKED, OWN, contact_access
from governance.accesslog import AccessRecord, access_log_write, access_record
from governance.models import AccessReason
from governance.privacy import mask_name, mask_phone, mask_text, reveals_personal_data

__all__ = ["HANDLER", "MASKED", "OWN", "contact_access", "contact_fields_for", "mask_name", "mask_phone"]


def text_masker(access: str) -> Callable[[str], str]:
    """How free text (notes, replies, reasons) is shown at this access: masked unless OWN or HANDLER."""
    return mask_text if access == MASKED else (lambda text: text)


MASKERS: dict[str, Callable[[str], str]] = {
    "contact_phone": mask_phone,
    "contact_name": mask_name,
    "title": mask_text,
    "description": mask_text,
    "reply": mask_text,
    "address": mask_text,
}
CONTACT_FIELDS = ("contact_phone", "contact_name")


def contact_fields_for(
    user: Any,
    petition: Petition,
    fields: Iterable[str],
    *,
    request: Any = None,
    reason: str = AccessReason.HANDLER_VIEW,
    revealed_elsewhere: Iterable[str] = (),
    pending: list[AccessRecord] | None = None,
) -> dict[str, str]:
    """The fields as `user` may see them; each unmasked value holding personal data is access-logged.

    `revealed_elsewhere` names other parts of the same screen that show personal data unmasked
    (e.g. "timeline" when a note holds a phone number): they are logged with the fields. A list
    passes `pending` to collect the records and writes them in one statement for the whole page.
    """
    access = contact_access(user, petition)
    shown: dict[str, str] = {}
    revealed: list[str] = []
    for field in fields:
        value = getattr(petition, field) or ""
        if access == MASKED:
            shown[field] = MASKERS[field](value)
            continue
        shown[field] = value
        if access == HANDLER and value and (field in CONTACT_FIELDS or reveals_personal_data(value)):
            revealed.append(field)
    if access == HANDLER:
        revealed.extend(revealed_elsewhere)
    if revealed:
        record = access_record(petition, revealed, record=petition.tracking_no)
        if pending is not None:
            pending.append(record)
        else:
            access_log_write(user=user, reason=reason, records=[record], request=request)
    return shown
