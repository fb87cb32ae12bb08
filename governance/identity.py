"""Phone numbers: one normal form and one validity rule for every way a number reaches us.

Intake, the resident form and its replay check, public tracking, the 12345 import and Open311 all
store and compare the normal form, so "138-0013-8000", "+86 138 0013 8000" and "１３８００１３８０００"
are the same resident.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# Mainland mobiles: 11 digits starting 13-19.
MOBILE_RE = re.compile(r"1[3-9]\d{9}")
# Landlines in normal form: area code (010, 02x: three digits; others four), dash, 7-8 digits.
LANDLINE_RE = re.compile(r"0(?:10|2\d|[3-9]\d{2})-\d{7,8}")
# A local number without area code (some hotline rows carry only that).
LOCAL_RE = re.compile(r"[2-9]\d{6,7}")
_NOISE = re.compile(r"[\s.·()\[\]（）【】]")
_COUNTRY = re.compile(r"^(?:\+|00)?86")


def _area_code_length(digits: str) -> int:
    """How many leading digits of a landline written without separator are its area code."""
    return 3 if digits.startswith(("010", "02")) else 4


def normalize_phone(value: Any) -> str:
    """The number in normal form: a mobile as 11 digits, a landline as "0532-88886666".

    Full-width characters, spaces, dots, brackets, dashes and the +86 / 0086 country code are
    ignored. Text that is no phone number comes back trimmed and unchanged otherwise, so that
    `is_valid_phone` refuses it.
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a spreadsheet keeps a mobile as a number
    text = unicodedata.normalize("NFKC", str(value)).strip()
    compact = _NOISE.sub("", text).replace("—", "-").replace("－", "-")
    if not compact:
        return ""
    international = compact.startswith(("+", "00"))
    if international and not _COUNTRY.match(compact):
        return text  # another country's number: kept for staff, never valid for our SMS
    digits = compact.replace("-", "")
    if not digits.isdigit() and not (digits.startswith("+") and digits[1:].isdigit()):
        return text
    digits = digits.lstrip("+")
    national = _COUNTRY.sub("", digits) if (international or len(digits) == 13) else digits
    if MOBILE_RE.fullmatch(national):
        return national
    if international and not national.startswith("0"):
        national = "0" + national  # +86 532 88886666: the trunk 0 is dropped abroad
    if national.startswith("0") and 10 <= len(national) <= 12:
        split = _area_code_length(national)
        candidate = f"{national[:split]}-{national[split:]}"
        if LANDLINE_RE.fullmatch(candidate):
            return candidate
    if LOCAL_RE.fullmatch(national):
        return national
    return text


def is_valid_phone(value: str) -> bool:
    """A mobile, a landline with area code or a local number, in normal form."""
    return bool(MOBILE_RE.fullmatch(value) or LANDLINE_RE.fullmatch(value) or LOCAL_RE.fullmatch(value))


def is_mobile(value: str) -> bool:
    return bool(MOBILE_RE.fullmatch(value))


# --- Names -------------------------------------------------------------------------------------------

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def name_in_order(family: str, given: str) -> str:
    """A name in Chinese order, family name first: 尹涛芬 (no space between Chinese parts)."""
    family, given = (family or "").strip(), (given or "").strip()
    separator = "" if _CJK.search(family + given) else " "
    return separator.join(part for part in (family, given) if part)


def person_name(user: Any) -> str:
    """How a user's name is shown everywhere: 姓 then 名, else the username."""
    if user is None:
        return ""
    name = name_in_order(getattr(user, "last_name", ""), getattr(user, "first_name", ""))
    return name or user.get_username()
