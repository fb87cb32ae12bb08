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
from operator import itemgetter
from typing import Any

from appeals.models import Petition
from appeals.policy import HANDLER, MASKED, OWN, contact_access
from governance.accesslog import AccessRecord, access_log_write, access_record
from governance.loading import instance_loader
from governance.models import AccessReason
from governance.privacy import mask_name, mask_phone, mask_text, reveals_personal_data
from grids.models import Area

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
    shown, revealed = _shown(access, {field: getattr(petition, field) for field in fields})
    if access == HANDLER:
        revealed.extend(revealed_elsewhere)
    if revealed:
        record = access_record(petition, revealed, record=petition.tracking_no)
        if pending is not None:
            pending.append(record)
        else:
            access_log_write(user=user, reason=reason, records=[record], request=request)
    return shown


def _shown(access: str, values: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The values as shown at `access`, and the fields among them to log (unmasked personal data)."""
    shown: dict[str, str] = {}
    revealed: list[str] = []
    for field, value in values.items():
        value = value or ""
        if access == MASKED:
            shown[field] = MASKERS[field](value)
            continue
        shown[field] = value
        if access == HANDLER and value and (field in CONTACT_FIELDS or reveals_personal_data(value)):
            revealed.append(field)
    return shown, revealed


# --- Lists read as values --------------------------------------------------------------------------
# A list page reads its rows as dicts of column values (`Petition.objects.values(...)`), not as model
# instances (`appeals.serializers.list_rows`). What `policy.contact_access` reads of a petition: the
# columns here and its handling area's path. The policy is asked about a petition built from these
# values alone, without a primary key and with every other field deferred, and its answer is reused
# for the page's rows with the same values: should the policy come to read another field, loading it
# fails (Petition.DoesNotExist) rather than reusing an answer wrongly. tests/appeals/test_request_cost.py
# also compares the two paths, row by row and record by record.
CONTACT_ACCESS_COLUMNS = (
    "submitter_id",
    "status",
    "handler_department_id",
    "handler_area_id",
    "tier",
    "microgrid_id",
    "grid_id",
)
CONTACT_ACCESS_VALUES = (*CONTACT_ACCESS_COLUMNS, "handler_area__path")
_PETITION_LABEL = Petition._meta.label_lower
_access_key = itemgetter(*CONTACT_ACCESS_VALUES)


class RowMasking:
    """Masking and access logging for the rows of one list page, read as values (a dict per row).

    The rule is `contact_fields_for`'s; the policy's answer (`contact_access`) is asked once per
    distinct combination of what it reads (CONTACT_ACCESS_VALUES) in the page. Each unmasked value
    holding personal data becomes an AccessRecord in `pending`, as `access_record` makes it for a
    petition (the caller writes them once for the page).
    """

    def __init__(self, user: Any, pending: list[AccessRecord] | None) -> None:
        self.user = user
        self.pending = pending
        self._answers: dict[tuple, str] = {}
        self._areas: dict[tuple[int, str], Area] = {}

    def access(self, row: dict[str, Any]) -> str:
        key = _access_key(row)
        answer = self._answers.get(key)
        if answer is None:
            answer = self._answers[key] = contact_access(self.user, self._subject(key))
        return answer

    def fields(self, row: dict[str, Any], fields: Iterable[str]) -> dict[str, str]:
        """`contact_fields_for` for a row with `id`, `tracking_no`, the fields and CONTACT_ACCESS_VALUES."""
        shown, revealed = self.shown(row, fields, self.access(row))
        self.record(row, revealed)
        return shown

    @staticmethod
    def shown(row: dict[str, Any], fields: Iterable[str], access: str) -> tuple[dict[str, str], tuple[str, ...]]:
        """The fields of `row` as shown at `access` (`self.access(row)`), and those to access-log."""
        shown, revealed = _shown(access, {field: row[field] for field in fields})
        return shown, tuple(revealed)

    def record(self, row: dict[str, Any], revealed: Iterable[str]) -> None:
        """Access-log the `revealed` fields of `row` (what `shown` said to log) with the page."""
        if revealed and self.pending is not None:
            self.pending.append(
                AccessRecord(
                    model=_PETITION_LABEL, object_id=str(row["id"]), record=row["tracking_no"], fields=tuple(revealed)
                )
            )

    def _subject(self, key: tuple) -> Petition:
        """A petition holding only CONTACT_ACCESS_COLUMNS (no primary key, every other field
        deferred) and its handling area with only its path (one instance per area and page)."""
        petition = _load_petition((None, *key[:-1]))
        area_id = petition.handler_area_id
        if area_id is not None:
            area = self._areas.get((area_id, key[-1]))
            if area is None:
                area = self._areas[area_id, key[-1]] = _load_area((area_id, key[-1]))
            _HANDLER_AREA.set_cached_value(petition, area)
        return petition


_load_petition = instance_loader(Petition, ("id", *CONTACT_ACCESS_COLUMNS))
_load_area = instance_loader(Area, ("id", "path"))
_HANDLER_AREA = Petition._meta.get_field("handler_area")
