"""The problems a row can have, each a stable code and a message rendered in the reader's language.

Report rows store the code, the column (as the file names it) and the parameters; the message is
rendered when the report is shown, so a job checked by a worker reads in Chinese to a Chinese
user. Cell values quoted in parameters are masked before they are stored when they are personal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

MISSING_VALUE = "missing_value"
INVALID_ID_NUMBER = "invalid_id_number"
ID_MISMATCH = "id_mismatch"
INVALID_PHONE = "invalid_phone"
BAD_DATE = "bad_date"
DATE_ORDER = "date_order"
BAD_CHOICE = "bad_choice"
BAD_NUMBER = "bad_number"
TOO_LONG = "too_long"
CONTROL_CHARACTERS = "control_characters"
UNKNOWN_HOUSE = "unknown_house"
UNKNOWN_BUILDING = "unknown_building"
UNKNOWN_MICROGRID = "unknown_microgrid"
OUT_OF_SCOPE = "out_of_scope"
DUPLICATE_IN_FILE = "duplicate_in_file"
DUPLICATE_EXISTING = "duplicate_existing"
ROW_REFUSED = "row_refused"
UNKNOWN_TAG = "unknown_tag"
TAG_NOT_GIVEN = "tag_not_given"

MESSAGES = {
    MISSING_VALUE: _("%(column)s is empty; it is required."),
    INVALID_ID_NUMBER: _("%(column)s “%(value)s” is not a valid ID number: %(reason)s."),
    ID_MISMATCH: _("%(column)s “%(value)s” does not match the ID number (%(expected)s)."),
    INVALID_PHONE: _("%(column)s “%(value)s” is not a phone number."),
    BAD_DATE: _("%(column)s “%(value)s” is not a date (write it as 1990-01-31)."),
    DATE_ORDER: _("%(column)s %(value)s lies before the move-in date %(other)s."),
    BAD_CHOICE: _("%(column)s “%(value)s” is not one of: %(choices)s."),
    BAD_NUMBER: _("%(column)s “%(value)s” is not a whole number between %(low)s and %(high)s."),
    TOO_LONG: _("%(column)s is longer than %(max)s characters."),
    CONTROL_CHARACTERS: _("%(column)s holds invisible control characters."),
    UNKNOWN_HOUSE: _("No house “%(value)s” in this community: import the houses first, or correct the cell."),
    UNKNOWN_BUILDING: _("No building “%(value)s” in this community: import the buildings first, or correct the cell."),
    UNKNOWN_MICROGRID: _("No micro-grid “%(value)s” in this community (write its code or its name)."),
    OUT_OF_SCOPE: _("%(what)s is on record in another community (%(where)s); it cannot be changed from here."),
    DUPLICATE_IN_FILE: _("%(column)s “%(value)s” appears again: the same as row %(other)s."),
    DUPLICATE_EXISTING: _("%(column)s “%(value)s” already belongs to %(other)s."),
    UNKNOWN_TAG: _(
        "%(column)s: no tag “%(value)s” in this community or the district's list (add it on the tags page, or correct the name)."
    ),
    TAG_NOT_GIVEN: _(
        "%(column)s: the tag “%(value)s” is not given by hand (it follows the records' data, or it was retired)."
    ),
    ROW_REFUSED: _("The row was refused: %(reason)s"),
}
# Why an ID number is refused, by `governance.identity.IdNumberError.code`.
ID_REASONS = {
    "length": _("it must have 18 characters, 17 digits and a digit or X"),
    "region": _("its region code does not exist"),
    "birth_date": _("it holds no possible birth date"),
    "check": _("its check character is wrong, check every digit"),
}
# The problem groups of the report, in the order a person should fix them.
ORDER = tuple(MESSAGES)


def problem_title(code: str) -> str:
    return str(TITLES.get(code, code))


TITLES = {
    MISSING_VALUE: _("Required cell empty"),
    INVALID_ID_NUMBER: _("Invalid ID number"),
    ID_MISMATCH: _("Does not match the ID number"),
    INVALID_PHONE: _("Invalid phone number"),
    BAD_DATE: _("Unparseable date"),
    DATE_ORDER: _("Dates in the wrong order"),
    BAD_CHOICE: _("Unknown value"),
    BAD_NUMBER: _("Not a number"),
    TOO_LONG: _("Too long"),
    CONTROL_CHARACTERS: _("Control characters"),
    UNKNOWN_HOUSE: _("Unknown house"),
    UNKNOWN_BUILDING: _("Unknown building"),
    UNKNOWN_MICROGRID: _("Unknown micro-grid"),
    OUT_OF_SCOPE: _("On record in another community"),
    DUPLICATE_IN_FILE: _("Duplicate in the file"),
    DUPLICATE_EXISTING: _("Duplicate of an existing record"),
    UNKNOWN_TAG: _("Unknown tag"),
    TAG_NOT_GIVEN: _("Tag not given by hand"),
    ROW_REFUSED: _("Refused by the records rules"),
}


@dataclass
class Problem:
    code: str
    column: str
    params: dict[str, Any] = field(default_factory=dict)

    def message(self) -> str:
        return render(self.code, self.column, self.params)


def render(code: str, column: str, params: dict[str, Any]) -> str:
    template = MESSAGES.get(code)
    if template is None:
        return code
    values = {key: str(value) for key, value in params.items()}
    values["column"] = column
    if "reason_code" in params:
        values["reason"] = str(ID_REASONS.get(params["reason_code"], params["reason_code"]))
    try:
        return str(template) % values
    except (KeyError, ValueError, TypeError):
        return str(TITLES.get(code, code))
