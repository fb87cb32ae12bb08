"""ID numbers and phones of an uploaded cell, in the import's terms (a reason in words, not an exception)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from governance.identity import IdNumberError, is_valid_phone, normalize_phone, parse_id_number
from residents.imports.reading import cell_text

PHONE_SEPARATORS = re.compile(r"[,，;；/、]")


def check_id_number(raw: Any, *, today: date | None = None) -> tuple[str, date | None, str, str]:
    """(normal form, birth date, gender, "") of a valid ID number, or ("", None, "", reason code).

    The rule is records' (`governance.identity.parse_id_number`): length, region, birth date,
    check character; a 15-digit old number is converted.
    """
    try:
        info = parse_id_number(cell_text(raw), today=today)
    except IdNumberError as error:
        return "", None, "", error.code
    return info.number, info.birth_date, info.gender, ""


def normalize_phone_cell(value: Any) -> tuple[str, bool]:
    """The first number of a cell that may list several, in normal form, and whether it is valid."""
    text = cell_text(value)
    first = PHONE_SEPARATORS.split(text)[0] if text else ""
    phone = normalize_phone(first)
    return phone, is_valid_phone(phone)
